// Topologies: the shipped files, the default herd's exact shape, and the parser's
// error messages (source, line, field) for each kind of bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "net/files.h"
#include "node/json_where.h"
#include "node/topology.h"

namespace herd {
namespace {

namespace fs = std::filesystem;
using Links = std::vector<std::pair<std::string, std::string>>;
using Names = std::vector<std::string>;

fs::path topologies_dir() {
  const char* root = std::getenv("HERD_ROOT");
  return fs::path(root != nullptr && *root != '\0' ? root : ".") / "topologies";
}

// Joins lines with '\n', so a test's line numbers are the list's (1-based) indexes.
std::string lines(std::initializer_list<std::string> ls) {
  std::string out;
  for (const std::string& l : ls) out += l + "\n";
  return out;
}

std::string error_of(const std::string& text) {
  Result<Topology> r = parse_topology(text, "t.json");
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// Every node reachable from the first one.
bool connected(const Topology& t) {
  std::set<std::string> seen{t.nodes.front().name};
  std::vector<std::string> todo{t.nodes.front().name};
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    for (const std::string& m : t.neighbours(n)) {
      if (seen.insert(m).second) todo.push_back(m);
    }
  }
  return seen.size() == t.nodes.size();
}

TEST_CASE("topology: every shipped file parses, is connected, and is named after its file") {
  REQUIRE_MESSAGE(fs::is_directory(topologies_dir()),
                  "no topologies/ under HERD_ROOT (or the working directory)");
  std::set<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(topologies_dir())) {
    if (e.path().extension() == ".json") files.insert(e.path().filename().string());
  }
  const std::set<std::string> expected = {
      "complete5.json",       "cs131-2014.json",      "cs131-2016.json",
      "cs131-2019.json",      "cs131-2020.json",      "cs131-2023.json",
      "cs131-fall2017.json",  "cs131-spring21.json",  "cs131-winter22.json",
      "grid5x5.json",         "line5.json",           "ring5.json",
      "star5.json"};
  for (const std::string& f : expected) CHECK_MESSAGE(files.count(f) == 1, f);

  std::map<int, std::string> port_owner;  // Port ranges must not overlap across files.
  for (const std::string& f : files) {
    CAPTURE(f);
    Result<Topology> t = load_topology((topologies_dir() / f).string());
    REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error()));
    CHECK(t.value().name + ".json" == f);
    CHECK(connected(t.value()));
    for (const TopologyNode& n : t.value().nodes) {
      CHECK(n.host == "127.0.0.1");
      auto [it, fresh] = port_owner.emplace(n.port, f);
      CHECK_MESSAGE(fresh, "port ", n.port, " also in ", it->second);
      Names nb = t.value().neighbours(n.name);
      CHECK(!nb.empty());
      CHECK(std::is_sorted(nb.begin(), nb.end()));
    }
  }
}

TEST_CASE("topology: the default herd is the spring 2021 herd, exactly") {
  Result<Topology> r = load_topology((topologies_dir() / "cs131-spring21.json").string());
  REQUIRE(r.ok());
  const Topology& t = r.value();
  CHECK(t.name == "cs131-spring21");
  REQUIRE(t.nodes.size() == 5);
  const Names names = {"Riley", "Jaquez", "Juzang", "Campbell", "Bernard"};
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(t.nodes[i].name == names[i]);
    CHECK(t.nodes[i].port == 12000 + static_cast<int>(i));
  }
  const Links links = {{"Riley", "Jaquez"},    {"Riley", "Juzang"},    {"Bernard", "Jaquez"},
                       {"Bernard", "Juzang"},  {"Bernard", "Campbell"}, {"Juzang", "Campbell"}};
  CHECK(t.links == links);
  CHECK(t.neighbours("Bernard") == Names{"Campbell", "Jaquez", "Juzang"});
  CHECK(t.neighbours("Riley") == Names{"Jaquez", "Juzang"});
  CHECK(t.neighbours("Juzang") == Names{"Bernard", "Campbell", "Riley"});
  CHECK(t.neighbours("Campbell") == Names{"Bernard", "Juzang"});
  CHECK(t.neighbours("Jaquez") == Names{"Bernard", "Riley"});
  CHECK(t.neighbours("Nobody").empty());
  CHECK(t.index_of("Campbell") == 3);
  CHECK(t.index_of("Nobody") == -1);
  REQUIRE(t.find("Bernard") != nullptr);
  CHECK(t.find("Bernard")->port == 12004);
  CHECK(t.find("bernard") == nullptr);  // Names are case sensitive.
}

TEST_CASE("topology: shapes of the historical herds and the experiment graphs") {
  auto load = [](const char* f) {
    Result<Topology> r = load_topology((topologies_dir() / f).string());
    REQUIRE(r.ok());
    return r.value();
  };
  Topology ring = load("cs131-fall2017.json");  // Alford-Hamilton-Holiday-Ball-Welsh.
  CHECK(ring.neighbours("Alford") == Names{"Hamilton", "Welsh"});
  CHECK(ring.neighbours("Holiday") == Names{"Ball", "Hamilton"});
  Topology y2019 = load("cs131-2019.json");
  CHECK(y2019.neighbours("Goloman") == Names{"Hands", "Holiday", "Wilkes"});
  CHECK(y2019.neighbours("Welsh") == Names{"Holiday"});
  Topology y2023 = load("cs131-2023.json");
  CHECK(y2023.neighbours("Campbell") == Names{"Bailey", "Bona", "Jaquez"});
  CHECK(y2023.neighbours("Clark") == Names{"Bona", "Jaquez"});

  Topology grid = load("grid5x5.json");
  CHECK(grid.nodes.size() == 25);
  CHECK(grid.links.size() == 40);
  CHECK(grid.neighbours("n0_0") == Names{"n0_1", "n1_0"});
  CHECK(grid.neighbours("n2_2") == Names{"n1_2", "n2_1", "n2_3", "n3_2"});
  CHECK(load("complete5.json").links.size() == 10);
  CHECK(load("star5.json").neighbours("n0") == Names{"n1", "n2", "n3", "n4"});
  CHECK(load("line5.json").neighbours("n4") == Names{"n3"});
  CHECK(load("ring5.json").neighbours("n0") == Names{"n1", "n4"});
}

TEST_CASE("topology: an optional peer port per node") {
  Result<Topology> t = parse_topology(
      "{\"name\": \"x\", \"nodes\": [{\"name\": \"a\", \"port\": 1, \"peer_port\": 2},"
      " {\"name\": \"b\", \"port\": 3}], \"links\": [[\"a\", \"b\"]]}",
      "t.json");
  REQUIRE(t.ok());
  CHECK(t.value().nodes[0].peer_port == 2);
  CHECK(t.value().nodes[1].peer_port == 0);
}

TEST_CASE("topology: optional host, and equal ports on different hosts") {
  Result<Topology> r = parse_topology(
      R"({"name": "h", "nodes": [{"name": "a", "port": 9000, "host": "10.0.0.1"},
                                  {"name": "b", "port": 9000}], "links": [["a", "b"]]})",
      "h.json");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error()));
  CHECK(r.value().nodes[0].host == "10.0.0.1");
  CHECK(r.value().nodes[1].host == "127.0.0.1");
  CHECK(r.value().links == Links{{"a", "b"}});
}

TEST_CASE("topology: errors name the source, the line and the field") {
  SUBCASE("JSON syntax error gives line and column") {
    CHECK(error_of(lines({"{",
                          "  \"name\": \"x\",",
                          "  \"nodes\": [",
                          "    {\"name\": \"a\" \"port\": 1}",
                          "  ]"})) ==
          "t.json: line 4, column 18: JSON syntax error: "
          "Missing a comma or '}' after an object member.");
    CHECK(error_of("") == "t.json: line 1, column 1: JSON syntax error: The document is empty.");
    CHECK(error_of("{\"name\": \"x\",}") ==
          "t.json: line 1, column 14: JSON syntax error: Missing a name for object member.");
  }
  SUBCASE("missing node name") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1},",
                          "  {\"port\": 2}",
                          "], \"links\": []}"})) == "t.json: line 3: nodes[1].name: is required");
  }
  SUBCASE("missing top-level keys") {
    CHECK(error_of("{\"nodes\": [], \"links\": []}") == "t.json: line 1: name: is required");
    CHECK(error_of(lines({"{\"name\": \"x\",", " \"nodes\": [{\"name\": \"a\", \"port\": 1}]}"})) ==
          "t.json: line 1: links: is required");
  }
  SUBCASE("bad ports") {
    for (const char* port : {"70000", "0", "-1", "12000.5", "12000.0", "\"12000\"", "null",
                             "99999999999999999999"}) {
      CAPTURE(port);
      CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                            "  {\"name\": \"a\", \"port\": 1},",
                            "",
                            std::string("  {\"name\": \"b\", \"port\": ") + port + "}",
                            "], \"links\": []}"})) ==
            "t.json: line 4: nodes[1].port: must be an integer in 1..65535");
    }
  }
  SUBCASE("duplicate node") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1},",
                          "  {\"name\": \"b\", \"port\": 2},",
                          "  {\"name\": \"a\", \"port\": 3}",
                          "], \"links\": []}"})) ==
          "t.json: line 4: nodes[2].name: duplicate node \"a\" (also nodes[0])");
  }
  SUBCASE("duplicate port on one host") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1},",
                          "  {\"name\": \"b\",",
                          "   \"port\": 1}",
                          "], \"links\": []}"})) ==
          "t.json: line 4: nodes[1].port: port 1 on 127.0.0.1 is already used by \"a\" "
          "(nodes[0])");
  }
  SUBCASE("a peer port shares the ports of its host") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1, \"peer_port\": 5},",
                          "  {\"name\": \"b\", \"port\": 5}",
                          "], \"links\": []}"})) ==
          "t.json: line 3: nodes[1].port: port 5 on 127.0.0.1 is already used by \"a\" (nodes[0])");
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1, \"peer_port\": 1}",
                          "], \"links\": []}"})) ==
          "t.json: line 2: nodes[0].peer_port: port 1 on 127.0.0.1 is already used by its own \"port\"");
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1, \"peer_port\": 0}",
                          "], \"links\": []}"})) ==
          "t.json: line 2: nodes[0].peer_port: must be an integer in 1..65535");
  }
  const std::string two_nodes = "{\"name\": \"x\", \"nodes\": [\n"
                                "  {\"name\": \"a\", \"port\": 1},\n"
                                "  {\"name\": \"b\", \"port\": 2}\n"
                                "], \"links\": [\n";  // Links start on line 5.
  SUBCASE("unknown link endpoint") {
    CHECK(error_of(two_nodes + "  [\"a\", \"b\"],\n  [\"b\", \"c\"]\n]}") ==
          "t.json: line 6: links[1][1]: unknown node \"c\"");
  }
  SUBCASE("self link") {
    CHECK(error_of(two_nodes + "  [\"a\", \"a\"]\n]}") ==
          "t.json: line 5: links[0]: links \"a\" to itself");
  }
  SUBCASE("duplicate link, in either direction") {
    CHECK(error_of(two_nodes + "  [\"a\", \"b\"],\n  [\"b\", \"a\"]\n]}") ==
          "t.json: line 6: links[1]: duplicate link b-a (also links[0])");
    CHECK(error_of(two_nodes + "  [\"a\", \"b\"],\n\n  [\"a\", \"b\"]\n]}") ==
          "t.json: line 7: links[1]: duplicate link a-b (also links[0])");
  }
  SUBCASE("a link is two names") {
    CHECK(error_of(two_nodes + "  [\"a\", \"b\", \"a\"]\n]}") ==
          "t.json: line 5: links[0]: must have exactly 2 elements (has 3)");
    CHECK(error_of(two_nodes + "  [\"a\", 2]\n]}") ==
          "t.json: line 5: links[0][1]: must be a string");
  }
  SUBCASE("unknown keys name the key") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\",",
                          "   \"prot\": 1}",
                          "], \"links\": []}"})) ==
          "t.json: line 3: nodes[0].prot: unknown key (expected one of: name, port, host, peer_port)");
    CHECK(error_of("{\"name\": \"x\", \"note\": \"hi\", \"nodes\": [], \"links\": []}") ==
          "t.json: line 1: note: unknown key (expected one of: name, nodes, links)");
  }
  SUBCASE("duplicate keys") {
    CHECK(error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                          "  {\"name\": \"a\", \"port\": 1,",
                          "   \"port\": 2}",
                          "], \"links\": []}"})) == "t.json: line 3: nodes[0].port: duplicate key");
  }
  SUBCASE("names: no white space, not empty, at most 64 bytes") {
    auto with_name = [](const std::string& name) {
      return error_of(lines({"{\"name\": \"x\", \"nodes\": [",
                             "  {\"name\": \"" + name + "\", \"port\": 1}",
                             "], \"links\": []}"}));
    };
    const std::string ws = "t.json: line 2: nodes[0].name: "
                           "must not contain white space or control characters";
    CHECK(with_name("Bad Name") == ws);
    CHECK(with_name("tab\\there") == ws);
    CHECK(with_name("nl\\n") == ws);
    CHECK(with_name("") == "t.json: line 2: nodes[0].name: must not be empty");
    CHECK(with_name(std::string(65, 'n')) == "t.json: line 2: nodes[0].name: must be at most 64 bytes");
    CHECK(parse_topology("{\"name\": \"x\", \"nodes\": [{\"name\": \"" + std::string(64, 'n') +
                             "\", \"port\": 1}], \"links\": []}", "t.json").ok());
    CHECK(error_of("{\"name\": \"my herd\", \"nodes\": [], \"links\": []}") ==
          "t.json: line 1: name: must not contain white space or control characters");
  }
  SUBCASE("wrong shapes") {
    CHECK(error_of("[]") == "t.json: line 1: top level: must be an object");
    CHECK(error_of("{\"name\": \"x\", \"nodes\": {}, \"links\": []}") ==
          "t.json: line 1: nodes: must be an array");
    CHECK(error_of("{\"name\": \"x\", \"nodes\": [], \"links\": []}") ==
          "t.json: line 1: nodes: must have at least 1 elements (has 0)");
    CHECK(error_of("{\"name\": \"x\", \"nodes\": [\"a\"], \"links\": []}") ==
          "t.json: line 1: nodes[0]: must be an object");
  }
  SUBCASE("CRLF line ends count as one line each") {
    CHECK(error_of("{\"name\": \"x\",\r\n \"nodes\": [\r\n  {\"name\": \"a\", \"port\": 0}],"
                   "\r\n \"links\": []}") ==
          "t.json: line 3: nodes[0].port: must be an integer in 1..65535");
  }
}

// Found by the topology fuzz target (tests/fuzz/corpus/topology/lone-surrogate): the
// reader checks a string's bytes, but decoded "\udc00" to bytes that are no UTF-8, so
// a host or a name could hold them; written back, the topology no longer parsed.
TEST_CASE("topology: a string escaping a lone surrogate is refused; a pair is a character") {
  CHECK(error_of(lines({"{\"name\": \"t\", \"links\": [],", "\"nodes\": [{\"name\": \"a\", \"host\": \"x\\udc00y\", \"port\": 1}]}"})) ==
        "t.json: line 2, column 43: JSON syntax error: a string escapes a lone surrogate (\\udc00-\\udfff is no "
        "character)");
  CHECK(error_of("{\"name\": \"t\", \"links\": [], \"nodes\": [], \"\\udfff\": 1}").find("lone surrogate") !=
        std::string::npos);  // In a key too.
  Result<Topology> t = parse_topology("{\"name\": \"t\\ud83d\\ude00\", \"links\": [], \"nodes\": [{\"name\": \"a\", \"port\": 1}]}",
                                      "t.json");
  REQUIRE(t.ok());
  CHECK(t.value().name == "t\xf0\x9f\x98\x80");
}

TEST_CASE("topology: limits") {
  SUBCASE("at most 100000 nodes") {
    std::string text = "{\"name\": \"big\", \"nodes\": [";
    for (int i = 0; i < 100001; ++i) {
      text += (i ? ",\n" : "\n") + std::string("{\"name\": \"n") + std::to_string(i) + "\", \"host\": \"h" +
              std::to_string(i / 60000) + "\", \"port\": " + std::to_string(1 + i % 60000) + "}";
    }
    text += "], \"links\": []}";
    CHECK(error_of(text) == "t.json: line 1: nodes: must have at most 100000 elements (has 100001)");
  }
  SUBCASE("nesting deeper than the limit is refused before it costs anything") {
    std::string deep(kJsonDepthMax + 1, '[');
    CHECK(error_of(deep) == "t.json: line 1, column 33: JSON syntax error: nested deeper than "
                            "32 levels");
  }
  SUBCASE("texts larger than 16 MiB are refused") {
    std::string huge(kJsonBytesMax + 1, ' ');
    CHECK(error_of(huge) == "t.json: too large: 16777217 bytes (at most 16777216)");
  }
}

TEST_CASE("json_where: lines of nested values and the helpers' messages") {
  Result<JsonDoc> doc = parse_json(lines({"{",
                                          "  \"a\": [1,",
                                          "        2, {\"b\":",
                                          "",
                                          "  true}],",
                                          "  \"s\": \"text\"",
                                          "}"}),
                                   "w.json");
  REQUIRE(doc.ok());
  JsonField root = doc.value().root();
  CHECK(root.line() == 1);
  Result<JsonField> a = root.required("a");
  REQUIRE(a.ok());
  CHECK(a.value().path() == "a");
  CHECK(a.value().line() == 2);
  CHECK(a.value().element(0).line() == 2);
  CHECK(a.value().element(1).line() == 3);
  JsonField obj = a.value().element(2);
  CHECK(obj.path() == "a[2]");
  CHECK(obj.line() == 3);
  Result<JsonField> b = obj.required("b");
  REQUIRE(b.ok());
  CHECK(b.value().path() == "a[2].b");
  CHECK(b.value().line() == 5);
  CHECK(b.value().expect_int(0, 1).error() == "w.json: line 5: a[2].b: must be an integer in 0..1");
  CHECK(obj.optional("c") == std::nullopt);
  CHECK(obj.required("c").error() == "w.json: line 3: a[2].c: is required");
  CHECK(a.value().expect_int(0, 1).error() == "w.json: line 2: a: must be an integer in 0..1");
  CHECK(a.value().expect_array(0, 2).error() ==
        "w.json: line 2: a: must have at most 2 elements (has 3)");
  CHECK(a.value().expect_array(3, 3).value() == 3);
  CHECK(a.value().element(1).expect_int(2, 2).value() == 2);
  Result<JsonField> s = root.required("s");
  REQUIRE(s.ok());
  CHECK(s.value().expect_string(4).value() == "text");
  CHECK(s.value().expect_string(3).error() == "w.json: line 6: s: must be at most 3 bytes");
  CHECK(s.value().expect_word(8).value() == "text");
  CHECK(!root.expect_object({"a", "s"}).has_value());
  CHECK(root.expect_object({"a"})->message ==
        "w.json: line 6: s: unknown key (expected one of: a)");

  // Lines stay valid when the document moves (values live behind a pointer).
  JsonDoc moved = std::move(doc.value());
  CHECK(moved.root().required("s").value().line() == 6);
}

TEST_CASE("files: read_text_file and load_topology") {
  CHECK(read_text_file("/nonexistent/herd/x.json").error() ==
        "/nonexistent/herd/x.json: cannot read: No such file or directory");
  CHECK(read_text_file("/").error() == "/: cannot read: Is a directory");

  fs::path p = fs::temp_directory_path() /
               ("herd_topology_test_" + std::to_string(::getpid()) + ".json");
  const std::string text =
      "{\"name\": \"x\",\n \"nodes\": [{\"name\": \"a\", \"port\": 1}],\n \"links\": [[\"a\", \"z\"]]}\n";
  {
    std::ofstream out(p, std::ios::binary);
    out << text;
  }
  CHECK(read_text_file(p.string()).value() == text);
  CHECK(load_topology(p.string()).error() ==
        p.string() + ": line 3: links[0][1]: unknown node \"z\"");
  fs::remove(p);
}

TEST_CASE("topology: connected components, and the names of many in one line") {
  Topology t;
  for (const char* name : {"a", "b", "c", "d", "e"}) t.nodes.push_back({name, "127.0.0.1", 1});
  CHECK(t.components() == std::vector<std::vector<int>>{{0}, {1}, {2}, {3}, {4}});
  CHECK(components_text(t) == "5 components: [a], [b], [c], [d], [e]");
  t.links = {{"e", "b"}, {"c", "a"}, {"b", "d"}};
  CHECK(t.components() == std::vector<std::vector<int>>{{0, 2}, {1, 3, 4}});
  CHECK(components_text(t) == "2 components: [a, c], [b, d, e]");
  t.links.emplace_back("c", "d");
  CHECK(t.components() == std::vector<std::vector<int>>{{0, 1, 2, 3, 4}});
  CHECK(components_text(t) == "");

  std::vector<std::string> names;
  for (int i = 0; i < 25; ++i) names.push_back("n" + std::to_string(i));
  CHECK(names_text({}) == "");
  CHECK(names_text({"x"}) == "x");
  CHECK(names_text(names, 3) == "n0, n1, n2 and 22 more");
  CHECK(names_text(names).ends_with("n18, n19 and 5 more"));
  Topology many;
  for (int i = 0; i < 12; ++i) many.nodes.push_back({"s" + std::to_string(i), "127.0.0.1", 1});
  CHECK(components_text(many) ==
        "12 components: [s0], [s1], [s2], [s3], [s4], [s5], [s6], [s7], [s8], [s9] and 2 more");
}

}  // namespace
}  // namespace herd
