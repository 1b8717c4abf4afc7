/*
 * yararules.c - compile the built-in and site YARA rules once, share them.
 * See yararules.h.
 *
 * The built-in files are embedded (yaradata.c), each under its own
 * namespace; the site's files come from one directory, sorted, at most
 * YR_EXTRA_MAX, each under "extra/<name>" so a site file may reuse a
 * built-in rule name.  The first compilation error stops the compilation
 * and is reported with its file and line.  A reference count decides when
 * the set (and libyara, whose yr_initialize/yr_finalize are counted too)
 * goes away.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/yaradata.h"
#include "capture/yararules.h"

#define YR_EXTRA_MAX 256            /* rule files taken from the site directory */

static struct {
    YR_RULES *rules;
    int users;
    char *extra_dir;                /* what the set was compiled with (NULL: none) */
} Y;

struct yr_err {
    char *err;
    size_t errlen;
    bool set;
};

/* Keep the first error; warnings (slow strings and the like) are ignored. */
static void yr_compile_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg, void *user)
{
    (void)rule;
    struct yr_err *e = user;
    if (level != YARA_ERROR_LEVEL_ERROR || e->set)
        return;
    snprintf(e->err, e->errlen, "yara: %s:%d: %s", file ? file : "(built-in)", line, msg ? msg : "error");
    e->set = true;
}

static int yr_yar_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".yar") == 0;
}

/* Add every <name>.yar of dir under the namespace "extra/<name>". */
static int yr_add_extra(YR_COMPILER *comp, const char *dir, struct yr_err *e)
{
    struct dirent **list;
    int n = scandir(dir, &list, yr_yar_filter, alphasort);
    int rc = 0;

    if (n < 0) {
        snprintf(e->err, e->errlen, "yara rules dir %s: %s", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (rc == 0 && i >= YR_EXTRA_MAX) {
            snprintf(e->err, e->errlen, "yara rules dir %s: more than %d files", dir, YR_EXTRA_MAX);
            rc = -1;
        }
        if (rc == 0) {
            char path[4096], ns[300];
            size_t nl = strlen(list[i]->d_name) - 4;
            snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
            snprintf(ns, sizeof(ns), "extra/%.*s", (int)(nl > 255 ? 255 : nl), list[i]->d_name);
            FILE *f = fopen(path, "re");
            if (!f) {
                snprintf(e->err, e->errlen, "%s: %s", path, strerror(errno));
                rc = -1;
            } else {
                if (yr_compiler_add_file(comp, f, ns, path) != 0)
                    rc = -1;
                fclose(f);
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

static int yr_compile(const char *extra_dir, YR_RULES **out, struct yr_err *e)
{
    YR_COMPILER *comp;
    size_t nfiles;
    const struct hp_yaradata *files = hp_yaradata_files(&nfiles);
    int rc = 0;

    if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
        snprintf(e->err, e->errlen, "yr_compiler_create failed");
        return -1;
    }
    yr_compiler_set_callback(comp, yr_compile_cb, e);
    /* After an error the compiler accepts nothing more: stop at the first. */
    for (size_t i = 0; i < nfiles && rc == 0; i++)
        if (yr_compiler_add_string(comp, files[i].text, files[i].name) != 0)
            rc = -1;
    if (rc == 0 && extra_dir)
        rc = yr_add_extra(comp, extra_dir, e);
    if (rc == 0 && yr_compiler_get_rules(comp, out) != ERROR_SUCCESS) {
        snprintf(e->err, e->errlen, "yr_compiler_get_rules failed");
        rc = -1;
    }
    if (rc != 0 && !e->set && e->err[0] == '\0')
        snprintf(e->err, e->errlen, "yara: rule compilation failed");
    yr_compiler_destroy(comp);
    return rc;
}

static bool yr_same_dir(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

YR_RULES *hp_yara_acquire(const char *extra_dir, char *err, size_t errlen)
{
    char scratch[256];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    if (Y.users) {
        if (!yr_same_dir(Y.extra_dir, extra_dir)) {
            snprintf(err, errlen, "yara: the rules are already compiled with another site directory");
            return NULL;
        }
        Y.users++;
        return Y.rules;
    }
    if (yr_initialize() != ERROR_SUCCESS) {
        snprintf(err, errlen, "yr_initialize failed");
        return NULL;
    }
    struct yr_err e = { err, errlen, false };
    if (yr_compile(extra_dir, &Y.rules, &e) != 0 || (extra_dir && !(Y.extra_dir = strdup(extra_dir)))) {
        if (!err[0])
            snprintf(err, errlen, "out of memory");
        if (Y.rules)
            yr_rules_destroy(Y.rules);
        Y.rules = NULL;
        yr_finalize();
        return NULL;
    }
    Y.users = 1;
    return Y.rules;
}

void hp_yara_release(void)
{
    if (!Y.users || --Y.users)
        return;
    yr_rules_destroy(Y.rules);
    Y.rules = NULL;
    free(Y.extra_dir);
    Y.extra_dir = NULL;
    yr_finalize();
}

int hp_yara_in_ns(const YR_RULE *rule, const char *ns)
{
    return rule->ns && rule->ns->name && strcmp(rule->ns->name, ns) == 0;
}
