/*
 * cmd_text.c - emulated programs of the "text" family (see cmd.h).
 */
#include "cmd.h"

const struct sh_cmd_def sh_cmds_text[] = {
    { NULL, NULL, false },
};
