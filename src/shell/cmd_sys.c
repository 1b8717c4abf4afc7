/*
 * cmd_sys.c - emulated programs of the "sys" family (see cmd.h).
 */
#include "cmd.h"

const struct sh_cmd_def sh_cmds_sys[] = {
    { NULL, NULL, false },
};
