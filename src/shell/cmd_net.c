/*
 * cmd_net.c - emulated programs of the "net" family (see cmd.h).
 */
#include "cmd.h"

const struct sh_cmd_def sh_cmds_net[] = {
    { NULL, NULL, false },
};
