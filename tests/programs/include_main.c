/* main comes from an included .c file */

#include "include/greeter_main.c"
