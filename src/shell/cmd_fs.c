/*
 * cmd_fs.c - emulated programs of the "fs" family (see cmd.h).
 */
#include "cmd.h"

const struct sh_cmd_def sh_cmds_fs[] = {
    { NULL, NULL, false },
};
