//! The `sustrack` binary: parse, run, map errors to exit codes.
//! 0 success (also when the reader of the output went away, as with
//! `sustrack log | head -1`), 1 failure (database, file system), 2 bad
//! usage or invalid input. Every error is one line `error: ...` on stderr.

use clap::Parser;

fn main() {
    std::process::exit(try_main());
}

fn try_main() -> i32 {
    let cli = match sustrack::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => match sustrack::cli::usage_error_line(&e) {
            Some(line) => {
                sustrack::cli::print_err(format_args!("error: {line}"));
                return 2;
            }
            // Help and version: clap prints them as it does.
            None => {
                let _ = e.print();
                return e.exit_code();
            }
        },
    };
    let command = cli.command.name();
    match sustrack::cli::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            let line = sustrack::cli::error_line(command, &e);
            sustrack::cli::print_err(format_args!("error: {line}"));
            e.exit_code()
        }
    }
}
