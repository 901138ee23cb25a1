/* A library the libgotcha tests dlopen() after start-up: its calls into libc must be
 * relinked like the program's. */
#include <string.h>

char *plugin_token(char *s) { return strtok(s, ","); }
