fn main() -> std::process::ExitCode {
    strategy_tracker::cli::main()
}
