# Every dependency comes from Debian 12 packages (installed by ./nats-chat).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(PostgreSQL REQUIRED)

# Debian's cnats CMake package names a static archive it does not ship, so use pkg-config.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
add_library(cnats::nats ALIAS PkgConfig::NATS)

# cpp-httplib is header-only; mark it SYSTEM so its warnings never block us.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
add_library(httplib_headers INTERFACE)
target_include_directories(httplib_headers SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_compile_definitions(httplib_headers INTERFACE CPPHTTPLIB_ZLIB_SUPPORT)
target_link_libraries(httplib_headers INTERFACE ZLIB::ZLIB Threads::Threads)
