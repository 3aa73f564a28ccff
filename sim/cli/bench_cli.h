// `herd bench`: the command line of the load generator (net/bench_client.h), the
// check that no update was lost (every sampled client's newest record is current at
// every --verify server, asked with WHATSAT after the run), and the report, as text
// or as one JSON object (--json). `herd bench --help` lists the flags.
#pragma once

namespace herd {

// argv holds the arguments after the word "bench" (argv[0] is the first flag).
// Returns the process exit code: 0 ran (whatever the figures) and, with --verify,
// every sampled client was current everywhere; 1 failed to run (a setup error, no
// load connection could connect) or a record was stale, missing or not answered;
// 2 bad usage (one line on stderr, never the usage: `herd bench --help` prints it).
int bench_command(int argc, char** argv);

}  // namespace herd
