# Every dependency comes from a Debian package (scripts/install-deps.sh); nothing is
# fetched at build time.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(cxxopts 3 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(Threads REQUIRED)
if(QFP8_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
