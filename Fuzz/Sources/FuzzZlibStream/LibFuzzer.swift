// libFuzzer's callback: one input per call, handed to the shared entry point (linked from Tests/).
// At file scope in an ordinary file: it is a C callback.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    _ = ZlibStreamFuzz.run(input)
    return 0
}

/// libFuzzer's driver (compiler-rt, linked by `-sanitize=fuzzer`). SwiftPM names this target's own
/// `main` the program entry, so libFuzzer's `main` is not used and the driver is called from main.swift.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
