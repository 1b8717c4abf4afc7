/*
 * privs.c - privilege drop and sandbox.
 *
 * Order at start-up (sensor.c): open outputs and bind sockets as whatever
 * user started us, then hp_privs_drop() (root -> configured user, all
 * threads, irreversibly; no_new_privs), then the seccomp filter of
 * sandbox.c (hp_sandbox_syscalls), applied to every thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include "log.h"
#include "privs.h"
#include "util.h"

static int lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "[sensor] user: no such user '%s'", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

static bool keep_root(const char *user)
{
    return !user || !*user || strcmp(user, "root") == 0;
}

/* chown a directory and everything below it (the data directory is shallow). */
static void chown_tree1(const char *dir, uid_t uid, gid_t gid)
{
    if (chown(dir, uid, gid) != 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
            continue;
        if (S_ISDIR(st.st_mode))
            chown_tree1(path, uid, gid);      /* the data dir is shallow: log/, payloads/, ... */
        else if (chown(path, uid, gid) != 0)
            hp_warn("cannot chown %s: %s", path, strerror(errno));
    }
    closedir(d);
}

int hp_privs_prepare_dir(const char *dir, const char *user, char *err, size_t errlen)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (geteuid() != 0 || keep_root(user))
        return 0;
    uid_t uid;
    gid_t gid;
    return lookup_user(user, &uid, &gid, err, errlen);
}

/*
 * AddressSanitizer's leak checker stops the world with ptrace from a helper
 * at exit; sanitizer builds (tests only) keep ptrace and dumpability so that
 * leaks in the running daemon are still reported.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_ASAN 1
#endif
#endif

int hp_privs_drop(const char *user, const char *data_dir, char *err, size_t errlen)
{
    if (geteuid() == 0 && !keep_root(user)) {
        uid_t uid;
        gid_t gid;
        if (lookup_user(user, &uid, &gid, err, errlen) != 0)
            return -1;
        chown_tree1(data_dir, uid, gid);
        /* Pull outputs run at SCHED_IDLE and return to normal priority when
         * they fall far behind (output.c); leaving SCHED_IDLE needs the nice
         * value 0 to be allowed, which RLIMIT_NICE 20 does and no more (it
         * cannot raise any priority above the default). */
        struct rlimit nice = { 20, 20 };
        if (setrlimit(RLIMIT_NICE, &nice) != 0)   /* needs CAP_SYS_RESOURCE, which a container may withhold */
            hp_debug("setrlimit(RLIMIT_NICE): %s: a pull output that falls behind stays at idle priority",
                     strerror(errno));
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
            snprintf(err, errlen, "cannot switch to user %s: %s", user, strerror(errno));
            return -1;
        }
        if (setuid(0) == 0 || seteuid(0) == 0) {
            snprintf(err, errlen, "privileges could be regained after dropping to %s", user);
            return -1;
        }
        hp_info("running as user %s (uid %u)", user, (unsigned)uid);
    } else if (geteuid() == 0) {
        hp_warn("running as root: set [sensor] user to an unprivileged account");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
#ifndef HP_ASAN
    /* Core dumps could leak attacker data and keys to other users. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#else
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);    /* setuid() cleared it; LSan needs it */
#endif
    return 0;
}
