// The single doctest main for every suite (unit, end-to-end, replay).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
