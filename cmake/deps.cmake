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

# Gumbo (libgumbo-dev): the HTML5 parser under kb-service's page sanitiser.
pkg_check_modules(GUMBO REQUIRED IMPORTED_TARGET gumbo)
add_library(gumbo::gumbo ALIAS PkgConfig::GUMBO)

# cpp-httplib: Debian ships it split, declarations in httplib.h and the code in libcpp-httplib.so,
# so link the library and take its compile definitions from pkg-config (OpenSSL, zlib, brotli):
# a header compiled with other CPPHTTPLIB_* switches than the library has different class
# layouts. Mark the include SYSTEM so its warnings never block us.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
add_library(httplib_headers INTERFACE)
target_include_directories(httplib_headers SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_compile_definitions(httplib_headers INTERFACE ${HTTPLIB_CFLAGS_OTHER})
target_link_libraries(httplib_headers INTERFACE ${HTTPLIB_LINK_LIBRARIES} ZLIB::ZLIB
  Threads::Threads)
