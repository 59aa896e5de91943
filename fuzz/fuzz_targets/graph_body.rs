//! A Graph request body, decoded as a sensor settings PATCH and as a `$batch` envelope.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = picket_server::fuzzing::graph_body(data);
});
