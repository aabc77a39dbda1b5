//! The `ufc-harness` command line: parses arguments, validates them, and
//! calls the library.

mod cli;

/// A run builds and drops millions of small JSON values (every party's
/// answer to every case, parsed and compared): mimalloc serves those
/// allocations in about half the system allocator's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
