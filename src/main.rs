//! The `sustrack` binary: parse, run, map errors to exit codes.
//! 0 success, 1 failure (database, file system), 2 bad usage or invalid input.

use clap::Parser;

fn main() {
    let cli = match sustrack::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout as clap prints them; usage errors
            // exit 2, with anything shaped like a personnummer masked (clap
            // quotes the arguments it did not understand).
            if !e.use_stderr() {
                let _ = e.print();
                std::process::exit(0);
            }
            eprint!("{}", sustrack::identity::scrub(&e.render().to_string()));
            std::process::exit(2);
        }
    };
    if let Err(e) = sustrack::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
