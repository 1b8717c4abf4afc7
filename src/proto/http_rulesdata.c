/*
 * http_rulesdata.c - the shipped HTTP response rules, compiled in as data.
 *
 * data/http/responses.rules and the response bodies in data/http/files/ are
 * embedded verbatim with the assembler's .incbin, exactly like
 * src/shell/fsdata.c embeds the personalities: the sensor needs no file at
 * run time and the rules stay a readable, diffable text file in the tree.
 * The Makefile rebuilds this object when one of those files changes.  A new
 * body file must be added both to the assembler block and to the table.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "proto/http_rules_int.h"

/* One embedded file: symbol NAME and NAME_end around the bytes, then a NUL. */
#define WR_INCBIN(sym, path)                                                   \
    "  .balign 16\n"                                                           \
    "  .globl " #sym "\n  .hidden " #sym "\n"                                  \
    "  .globl " #sym "_end\n  .hidden " #sym "_end\n"                          \
    #sym ":\n"                                                                 \
    "  .incbin \"" path "\"\n"                                                 \
    #sym "_end:\n"                                                             \
    "  .byte 0\n"

#define WR_DECL(sym) extern const uint8_t sym[], sym##_end[]

WR_DECL(hp_wr_rules);
WR_DECL(hp_wr_nginx_404);
WR_DECL(hp_wr_nginx_index);
WR_DECL(hp_wr_tomcat_401);
WR_DECL(hp_wr_tomcat_manager);
WR_DECL(hp_wr_wp_login);
WR_DECL(hp_wr_wp_login_error);
WR_DECL(hp_wr_phpmyadmin);
WR_DECL(hp_wr_picsdesc);
WR_DECL(hp_wr_thinkphp_error);
WR_DECL(hp_wr_upnp_router);
WR_DECL(hp_wr_upnp_camera);
WR_DECL(hp_wr_weblogic_404);

__asm__(
    "  .pushsection .rodata\n"
    WR_INCBIN(hp_wr_rules, "data/http/responses.rules")
    WR_INCBIN(hp_wr_nginx_404, "data/http/files/nginx-404.html")
    WR_INCBIN(hp_wr_nginx_index, "data/http/files/nginx-index.html")
    WR_INCBIN(hp_wr_tomcat_401, "data/http/files/tomcat-401.html")
    WR_INCBIN(hp_wr_tomcat_manager, "data/http/files/tomcat-manager.html")
    WR_INCBIN(hp_wr_wp_login, "data/http/files/wp-login.html")
    WR_INCBIN(hp_wr_wp_login_error, "data/http/files/wp-login-error.html")
    WR_INCBIN(hp_wr_phpmyadmin, "data/http/files/phpmyadmin.html")
    WR_INCBIN(hp_wr_picsdesc, "data/http/files/picsdesc.xml")
    WR_INCBIN(hp_wr_thinkphp_error, "data/http/files/thinkphp-error.html")
    WR_INCBIN(hp_wr_upnp_router, "data/http/files/upnp-router.xml")
    WR_INCBIN(hp_wr_upnp_camera, "data/http/files/upnp-camera.xml")
    WR_INCBIN(hp_wr_weblogic_404, "data/http/files/weblogic-404.html")
    "  .popsection\n");

static const struct { const char *name; const uint8_t *start, *end; } files[] = {
    { "nginx-404.html", hp_wr_nginx_404, hp_wr_nginx_404_end },
    { "nginx-index.html", hp_wr_nginx_index, hp_wr_nginx_index_end },
    { "tomcat-401.html", hp_wr_tomcat_401, hp_wr_tomcat_401_end },
    { "tomcat-manager.html", hp_wr_tomcat_manager, hp_wr_tomcat_manager_end },
    { "wp-login.html", hp_wr_wp_login, hp_wr_wp_login_end },
    { "wp-login-error.html", hp_wr_wp_login_error, hp_wr_wp_login_error_end },
    { "phpmyadmin.html", hp_wr_phpmyadmin, hp_wr_phpmyadmin_end },
    { "picsdesc.xml", hp_wr_picsdesc, hp_wr_picsdesc_end },
    { "thinkphp-error.html", hp_wr_thinkphp_error, hp_wr_thinkphp_error_end },
    { "upnp-router.xml", hp_wr_upnp_router, hp_wr_upnp_router_end },
    { "upnp-camera.xml", hp_wr_upnp_camera, hp_wr_upnp_camera_end },
    { "weblogic-404.html", hp_wr_weblogic_404, hp_wr_weblogic_404_end },
};

const char *hp_httpdata_rules(size_t *len)
{
    *len = (size_t)(hp_wr_rules_end - hp_wr_rules);
    return (const char *)hp_wr_rules;
}

const uint8_t *hp_httpdata_file(const char *name, size_t *len)
{
    for (size_t i = 0; name && i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(files[i].name, name) == 0) {
            *len = (size_t)(files[i].end - files[i].start);
            return files[i].start;
        }
    }
    return NULL;
}
