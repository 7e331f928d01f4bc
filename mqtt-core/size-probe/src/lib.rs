//! What every size probe links besides its entry point: the panic handler of a bare-metal
//! binary. Each probe in `src/bin/` pulls it in with `use mqtt_size_probe as _;`.
#![no_std]

/// Never reached from the probes' inputs; `loop {}` is the smallest handler there is.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
