fn main() {
    // Element ids and accessibility lookups in tests need Slint's debug info;
    // release builds for the box leave it out.
    let debug_info = std::env::var("PROFILE").as_deref() == Ok("debug");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(debug_info);
    slint_build::compile_with_config("../../ui/main.slint", config)
        .expect("compiling ui/main.slint");
}
