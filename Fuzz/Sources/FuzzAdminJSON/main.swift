// Runs libFuzzer over AdminJSONFuzz.run; see Fuzz/run.sh for the flags.
#if canImport(Glibc)
import Glibc
#endif

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzTestOneInput(data, size) }))
