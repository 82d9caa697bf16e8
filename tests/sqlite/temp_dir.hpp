// tests/sqlite/temp_dir.hpp - a throwaway directory per test (mkdtemp), removed with its files.
#pragma once

#include <cstdlib>    // mkdtemp
#include <filesystem> // std::filesystem
#include <stdexcept>  // std::runtime_error
#include <string>     // std::string

namespace eddy::test::sqlite {

class temp_dir {
public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "eddy-sqlite-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        m_path = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }

    [[nodiscard]] std::string file(const std::string& name) const { return m_path + "/" + name; }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }

private:
    std::string m_path;
};

} // namespace eddy::test::sqlite
