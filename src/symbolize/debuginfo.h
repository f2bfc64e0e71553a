/* SPDX-License-Identifier: MIT */
/* debuginfo.h — local search for separate debug info, used as libdwfl's find_debuginfo
 * callback (private to symbolize.c). Never loads libdebuginfod or touches the network. */
#ifndef PROFREG_DEBUGINFO_H
#define PROFREG_DEBUGINFO_H

#include <elfutils/libdwfl.h>

/* The default cache directory under $XDG_CACHE_HOME or ~/.cache, or NULL when neither is
 * known. malloc'd. */
char *debuginfo_default_cache_dir(void);

/* Searched when no directories are given (what GDB and elfutils use by default). */
#define DEBUGINFO_DEFAULT_DIRS "/usr/lib/debug"

/* Where to look, handed to debuginfo_find() through each module's userdata. */
struct debuginfo_config {
    const char *dirs;      /* colon-separated debug directories; NULL: DEBUGINFO_DEFAULT_DIRS */
    const char *cache_dir; /* uncompressed copies by build-id; NULL: no cache */
};

/* A Dwfl_Callbacks.find_debuginfo; *userdata is a struct debuginfo_config. Returns an open
 * fd and sets *debuginfo_file_name, or -1. A debug file with compressed sections found by
 * build-id is copied uncompressed into cache_dir (same layout as a debug directory, searched
 * first), so later processes map it instead of inflating it again. */
int debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name);

#endif
