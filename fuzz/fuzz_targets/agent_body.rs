//! An `/agent/v1` request body, decoded as enrolment, candidate report and check-in.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = picket_server::fuzzing::agent_body(data);
});
