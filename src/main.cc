#include "cli/cli.h"

int main(int argc, char** argv) { return trellis::cli::Main(argc, argv); }
