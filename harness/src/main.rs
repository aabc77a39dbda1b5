//! The `ufc-harness` command line: parses arguments, validates them, and
//! calls the library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
