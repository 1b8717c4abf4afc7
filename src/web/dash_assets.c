/*
 * dash_assets.c - the dashboard's own front end (web/), compiled in.
 *
 * The files are embedded verbatim with the assembler's .incbin (as
 * src/shell/fsdata.c does for the shell images), so the sensor needs no
 * file of its own at run time and a page can never be swapped on disk.
 * The Makefile rebuilds this object when a file in web/ changes.  The
 * third-party libraries (ECharts, asciinema-player, the world map) are not
 * here: tools/webdeps.sh vendors them and dash.c reads them at start.
 */
#include <stddef.h>
#include <string.h>
#include "web/dash_int.h"

#define ASSET(sym, file)                                                                          \
    "  .balign 16\n  .globl " sym "\n  .hidden " sym "\n  .globl " sym "_end\n  .hidden " sym "_end\n" \
    sym ":\n  .incbin \"" file "\"\n" sym "_end:\n  .byte 0\n"

extern const char dash_index[], dash_index_end[], dash_login[], dash_login_end[];
extern const char dash_js[], dash_js_end[], dash_css[], dash_css_end[];

__asm__("  .pushsection .rodata\n"
        ASSET("dash_index", "web/index.html")
        ASSET("dash_login", "web/login.html")
        ASSET("dash_js", "web/app.js")
        ASSET("dash_css", "web/app.css")
        "  .popsection\n");

const struct hp_asset *hp_asset_find(const char *path)
{
    static struct hp_asset assets[] = {
        { "/", "text/html; charset=utf-8", dash_index, 0, false },
        { "/login", "text/html; charset=utf-8", dash_login, 0, true },
        { "/app.js", "text/javascript; charset=utf-8", dash_js, 0, false },
        { "/app.css", "text/css; charset=utf-8", dash_css, 0, true },
    };
    static const char *const ends[] = { dash_index_end, dash_login_end, dash_js_end, dash_css_end };
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
        assets[i].len = (size_t)(ends[i] - assets[i].data);    /* idempotent: same value every time */
        if (strcmp(path, assets[i].path) == 0)
            return &assets[i];
    }
    return NULL;
}
