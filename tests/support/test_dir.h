// Test support: a directory of the running unit test's own, for stores and data directories.
#pragma once

#include <string>

namespace trellis::testing {

// <gtest TempDir>/<suite>.<test>_<pid> (the '/' of parameterized names replaced by '_'):
// emptied and created by the constructor, removed with everything in it by the destructor.
// Construct it while a test runs (as a fixture member or in SetUp), where the name is known;
// declare it before the members that hold files open in it, so it goes after them.
class TestDir {
 public:
  TestDir();
  ~TestDir();
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace trellis::testing
