//! Bakes an rpath to libtorch into every binary, so the runner starts without LD_LIBRARY_PATH.

fn main() {
    // torch-sys publishes the lib dir it linked against (its `links = "tch"` metadata).
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .expect("torch-sys did not report its libtorch lib dir; run scripts/bootstrap");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    // Where to find libtorch_cuda.so at run time: as-needed linking drops it, so it is loaded explicitly.
    println!("cargo:rustc-env=ANIGAN_LIBTORCH_LIB={lib}");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
}
