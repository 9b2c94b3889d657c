//! The `sustrack` binary: parse, run, map errors to exit codes.
//! 0 success, 1 failure (database, file system), 2 bad usage or invalid input.

use clap::Parser;

fn main() {
    let cli = match sustrack::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help and version itself; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Err(e) = sustrack::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
