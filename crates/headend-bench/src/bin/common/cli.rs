//! The `main` every benchmark client shares: parse the arguments (exit 2
//! on a bad one), run on a tokio runtime, print the result on stdout (exit
//! 1 on an error, said on stderr).

use std::fmt::Display;
use std::future::Future;

/// Runs `run(parse()?)` as the program `name`; `multi_thread` picks the
/// runtime (one thread leaves the other core to the headend under test).
pub fn main_with<A, T, F>(
    name: &str,
    multi_thread: bool,
    parse: fn() -> Result<A, String>,
    run: impl FnOnce(A) -> F,
) where
    T: Display,
    F: Future<Output = Result<T, String>>,
{
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(2);
        }
    };
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(out) => {
            let out = out.to_string();
            if !out.is_empty() {
                println!("{out}");
            }
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            std::process::exit(1);
        }
    }
}
