//! An OData query string ($filter, $orderby, $select, $top, $skip, $count), parsed and validated
//! against the sensor (v1.0 and beta), health-issue and candidate schemas.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = picket_server::fuzzing::odata_query(data);
});
