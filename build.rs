//! Bakes an rpath to libtorch into every binary, so the runner starts without LD_LIBRARY_PATH,
//! and compiles `csrc/shim.cpp` (autocast with a chosen dtype, which tch lacks) against the same
//! libtorch's headers.

fn main() {
    // torch-sys publishes the lib dir it linked against (its `links = "tch"` metadata).
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys did not report its libtorch lib dir; run scripts/bootstrap");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    // Where to find libtorch_cuda.so at run time: as-needed linking drops it, so it is loaded
    // explicitly. Not named ANIGAN_*: cargo also sets it when it runs the binary (`cargo run`,
    // tests), and every ANIGAN_* variable must name a setting.
    println!("cargo:rustc-env=BUILT_LIBTORCH_LIB={lib}");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");

    // The headers sit beside the lib dir in both layouts (libtorch zip and torch wheel).
    let include = std::path::Path::new(&lib).join("../include");
    cc::Build::new()
        .cpp(true)
        .file("csrc/shim.cpp")
        .include(&include)
        .flag("-std=c++17")
        // The wheel's libtorch uses the C++11 ABI, like torch-sys's own glue.
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .define("GLOG_USE_GLOG_EXPORT", None)
        .warnings(false)
        .compile("anigan_shim");
    println!("cargo:rerun-if-changed=csrc/shim.cpp");
}
