# The Debian package of civcasd, made from this build tree by CPack:
#   cd build && cpack -G DEB        ->  civcasd_<version>-<release>_<arch>.deb
# What it installs and sets up: docs/install.md. Its maintainer scripts, the
# conffile and the Debian files are in deploy/package/.
#
# Install components: "civcasd" (the binary, its data in share/civcas) is
# also what `cmake --install` puts under the prefix; "deb" (the settings file
# in /etc, the unit in /lib/systemd/system, the manual page and documents,
# the Debian copyright and changelog, lintian's overrides) only goes into the
# package, whose paths it names.

set(CIVCAS_DEB_RELEASE 1 CACHE STRING
    "Debian revision of the package (the part after the project version)")
set(CIVCAS_DEB_MAINTAINER
    "civcas maintainers <maintainers@users.noreply.h-seed-1f96b8ee.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(CIVCAS_PACKAGE_DIR ${CMAKE_SOURCE_DIR}/deploy/package)
set(CIVCAS_PACKAGE_BUILD_DIR ${CMAKE_BINARY_DIR}/package)
set(CIVCAS_DOC_DIR share/doc/civcasd)

# Every directory the installation creates is 0755, whatever the umask.
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)

# --- the civcasd component -----------------------------------------------------
install(TARGETS civcasd RUNTIME DESTINATION bin COMPONENT civcasd)
# civcasd applies the migrations compiled into it; these copies are for
# reading (what `civcasd migrate` will do to a database), and equal to what
# it records in schema_migrations (tests/deploy/test_package.py).
install(FILES ${CIVCAS_MIGRATIONS} DESTINATION share/civcas/migrations
        COMPONENT civcasd)
install(FILES ${CMAKE_SOURCE_DIR}/schema/schema.sql
              ${CMAKE_SOURCE_DIR}/schema/taxonomy-unama.json
        DESTINATION share/civcas COMPONENT civcasd)

# --- the deb component ---------------------------------------------------------
# The unit of deploy/civcasd.service, with the binary where the package puts
# it.
set(CIVCAS_UNIT_SOURCE ${CMAKE_SOURCE_DIR}/deploy/civcasd.service)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CIVCAS_UNIT_SOURCE} ${CIVCAS_PACKAGE_DIR}/changelog)
file(READ ${CIVCAS_UNIT_SOURCE} civcas_unit)
string(REPLACE "\nExecStart=/usr/local/bin/civcasd " "\nExecStart=/usr/bin/civcasd "
       civcas_unit_packaged "${civcas_unit}")
if(civcas_unit_packaged STREQUAL civcas_unit)
  message(FATAL_ERROR "deploy/civcasd.service: no line \"ExecStart=/usr/local/bin/civcasd ...\" "
                      "for the package to point at /usr/bin/civcasd")
endif()
file(GENERATE OUTPUT ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.service
     CONTENT "${civcas_unit_packaged}")
install(FILES ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.service
        DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)

# May hold the database password: root's alone (systemd reads it as root).
install(FILES ${CIVCAS_PACKAGE_DIR}/civcasd.env DESTINATION /etc/civcas
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT deb EXCLUDE_FROM_ALL)

# The Debian changelog, compressed as Debian does (gzip -9n: no name, no
# time stamp, so the same changelog gives the same bytes). Its newest entry
# must be this version.
file(STRINGS ${CIVCAS_PACKAGE_DIR}/changelog civcas_changelog_top LIMIT_COUNT 1)
set(CIVCAS_DEB_VERSION ${PROJECT_VERSION}-${CIVCAS_DEB_RELEASE})
if(NOT civcas_changelog_top MATCHES "^civcasd \\(${CIVCAS_DEB_VERSION}\\) ")
  message(WARNING "deploy/package/changelog does not start with version ${CIVCAS_DEB_VERSION}: "
                  "add an entry for it before making a package")
endif()
file(MAKE_DIRECTORY ${CIVCAS_PACKAGE_BUILD_DIR})
execute_process(COMMAND gzip -9nc ${CIVCAS_PACKAGE_DIR}/changelog
                OUTPUT_FILE ${CIVCAS_PACKAGE_BUILD_DIR}/changelog.Debian.gz
                RESULT_VARIABLE civcas_gzip_result)
if(NOT civcas_gzip_result EQUAL 0)
  message(FATAL_ERROR "gzip of deploy/package/changelog failed: ${civcas_gzip_result}")
endif()
install(FILES ${CIVCAS_PACKAGE_DIR}/copyright
              ${CIVCAS_PACKAGE_BUILD_DIR}/changelog.Debian.gz
        DESTINATION ${CIVCAS_DOC_DIR} COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CIVCAS_DOC_DIR}
        COMPONENT deb EXCLUDE_FROM_ALL)
file(GLOB civcas_docs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${civcas_docs} DESTINATION ${CIVCAS_DOC_DIR}/docs
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/nginx.conf DESTINATION ${CIVCAS_DOC_DIR}/examples
        COMPONENT deb EXCLUDE_FROM_ALL)

# The manual page, made from `civcasd --help` by help2man, so that it says
# what the binary does; deploy/package/civcasd.h2m adds the files the
# package installs.
find_program(CIVCAS_HELP2MAN help2man REQUIRED)
add_custom_command(
  OUTPUT ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.1.gz
  COMMAND ${CIVCAS_HELP2MAN} --no-info --section=1
          "--name=civilian casualty recording server"
          --include=${CIVCAS_PACKAGE_DIR}/civcasd.h2m
          --output=${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.1 $<TARGET_FILE:civcasd>
  COMMAND gzip -9nf ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.1
  DEPENDS civcasd ${CIVCAS_PACKAGE_DIR}/civcasd.h2m
  VERBATIM)
add_custom_target(civcasd_manual ALL DEPENDS ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.1.gz)
install(FILES ${CIVCAS_PACKAGE_BUILD_DIR}/civcasd.1.gz DESTINATION share/man/man1
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CIVCAS_PACKAGE_DIR}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME civcasd COMPONENT deb EXCLUDE_FROM_ALL)

# --- CPack -----------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME civcasd)
set(CPACK_PACKAGE_VENDOR "civcas maintainers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL civcasd deb)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME civcasd)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CIVCAS_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CIVCAS_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Depends: the shared libraries civcasd links (dpkg-shlibdeps), and adduser
# for postinst (--comment came with 3.134, Debian 12's).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser (>= 3.134)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql (>= 15), nginx")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "civilian casualty recording server
civcasd records incidents that killed or injured civilians for human
rights monitoring missions and protection clusters: field monitors submit
them through a JSON REST API (or ODK and KoboToolbox forms), reviewers
verify them against a sources standard, every change is kept as a
revision, and the API answers trends and Protection of Civilians report
tables, with small counts withheld from public data. PostgreSQL 15 or
later holds all state.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CIVCAS_PACKAGE_DIR}/postinst ${CIVCAS_PACKAGE_DIR}/prerm
    ${CIVCAS_PACKAGE_DIR}/postrm ${CIVCAS_PACKAGE_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
