fn main() {
    let config = slint_build::CompilerConfiguration::new().with_style("fluent".into());
    slint_build::compile_with_config("../../ui/main.slint", config)
        .expect("compiling ui/main.slint");
}
