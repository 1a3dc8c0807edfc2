#include "auth/allowlist.h"

#include <gtest/gtest.h>

#include "auth/test_util.h"

namespace rte::auth {
namespace {
using namespace rte::auth::testing;
using V = std::vector<std::string>;

std::shared_ptr<const Allowlist> MustParse(std::string_view text) {
  auto r = Allowlist::Parse(text, "allow.txt");
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : nullptr;
}

std::string ParseError(std::string_view text) {
  auto r = Allowlist::Parse(text, "allow.txt");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().message;
}

TEST(AllowlistTest, PairsCommentsAndSeparators) {
  auto list = MustParse(
      "# organization user\n"
      "42 alice\n"
      "\n"
      "  43\tbob   # trailing comment\n"
      "44,alice\n"
      "45 , carol\r\n"
      "42 alice\n"
      "   # indented comment\n"
      "46 dave");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->pair_count(), 6u);
  EXPECT_EQ(list->For("alice")->organizations, (V{"42", "44"}));
  EXPECT_EQ(list->For("bob")->organizations, (V{"43"}));
  EXPECT_EQ(list->For("carol")->organizations, (V{"45"}));
  EXPECT_EQ(list->For("dave")->organizations, (V{"46"}));
  auto nobody = list->For("mallory");
  EXPECT_EQ(nobody->user_id, "mallory");
  EXPECT_TRUE(nobody->organizations.empty());
  EXPECT_FALSE(nobody->AllowsOrganization("42"));
  auto alice = list->For("alice");
  EXPECT_EQ(alice->user_id, "alice");
  EXPECT_TRUE(alice->any_property);
  EXPECT_FALSE(alice->any_organization);
  EXPECT_TRUE(alice->Allows("42", ""));
  EXPECT_FALSE(alice->Allows("43", ""));
}

TEST(AllowlistTest, StarMeansEveryUser) {
  auto list = MustParse("7 *\n8 alice\n");
  EXPECT_EQ(list->For("alice")->organizations, (V{"7", "8"}));
  EXPECT_EQ(list->For("zed")->organizations, (V{"7"}));
  EXPECT_TRUE(list->For("")->organizations.empty());  // no user id: nothing
}

TEST(AllowlistTest, EmptyFileIsValid) {
  auto list = MustParse("");
  EXPECT_TRUE(list->For("a")->organizations.empty());
  EXPECT_EQ(MustParse("# only comments\n\n")->pair_count(), 0u);
}

TEST(AllowlistTest, ErrorsNameFileAndLine) {
  std::string e = ParseError("1 a\n2 b\nlonely\n");
  EXPECT_NE(e.find("allow.txt:3:"), std::string::npos) << e;
  e = ParseError("1 a b\n");
  EXPECT_NE(e.find("allow.txt:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("3 fields"), std::string::npos) << e;
  e = ParseError("\n\n* alice\n");
  EXPECT_NE(e.find("allow.txt:3:"), std::string::npos) << e;
  e = ParseError("1 a\n2\x01x b\n");
  EXPECT_NE(e.find("allow.txt:2:"), std::string::npos) << e;
}

TEST(AllowlistTest, LoadNamesAMissingFile) {
  auto r = Allowlist::Load("/nonexistent/allow.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/allow.txt"), std::string::npos);
}

TEST(AllowlistWatcherTest, ReloadsOnChangeAndKeepsTheListOnErrors) {
  TempFile file("1 alice\n");
  auto w = AllowlistWatcher::Create(file.path(), std::chrono::milliseconds(10));
  ASSERT_TRUE(w.ok()) << w.error().message;
  AllowlistWatcher& watcher = **w;
  EXPECT_EQ(watcher.generation(), 1u);
  EXPECT_EQ(watcher.Current()->For("alice")->organizations, (V{"1"}));
  watcher.Start();

  file.Write("1 alice\n2 alice\n");
  ASSERT_TRUE(WaitUntil([&] { return watcher.generation() == 2; }));
  EXPECT_EQ(watcher.Current()->For("alice")->organizations, (V{"1", "2"}));

  // A broken file keeps the previous list.
  file.Write("1 alice\nbroken line here\n");
  ASSERT_TRUE(WaitUntil([&] { return watcher.reload_failures() == 1; }));
  EXPECT_EQ(watcher.generation(), 2u);
  EXPECT_EQ(watcher.Current()->For("alice")->organizations, (V{"1", "2"}));

  // Fixed again: reloaded.
  file.Write("3 *\n");
  ASSERT_TRUE(WaitUntil([&] { return watcher.generation() == 3; }));
  EXPECT_EQ(watcher.Current()->For("alice")->organizations, (V{"3"}));
  EXPECT_EQ(watcher.reload_failures(), 1u);

  watcher.Stop();
  watcher.Stop();  // idempotent
}

TEST(AllowlistWatcherTest, CreateFailsOnABadFile) {
  TempFile file("1 alice\nnope\n");
  auto w = AllowlistWatcher::Create(file.path());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find(file.path() + ":2:"), std::string::npos) << w.error().message;
  EXPECT_FALSE(AllowlistWatcher::Create("/nonexistent/allow.txt").ok());
}

TEST(AllowlistWatcherTest, StopWithoutStart) {
  TempFile file("1 a\n");
  auto w = AllowlistWatcher::Create(file.path());
  ASSERT_TRUE(w.ok());
  (*w)->Stop();
  (*w)->Start();  // no-op after Stop
  EXPECT_EQ((*w)->Current()->For("a")->organizations, (V{"1"}));
}

}  // namespace
}  // namespace rte::auth
