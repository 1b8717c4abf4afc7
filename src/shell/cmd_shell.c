/*
 * cmd_shell.c - emulated programs of the "shell" family (see cmd.h).
 */
#include "cmd.h"

const struct sh_cmd_def sh_cmds_shell[] = {
    { NULL, NULL, false },
};
