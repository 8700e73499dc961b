/* hello: the first program a sandbox must run. Prints each argv entry on its own line, the value of
   the environment variable SANDBOX_TEST_VAR, one line on stderr, and returns 7. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=[%s]\n", i, argv[i]);
  const char *v = getenv("SANDBOX_TEST_VAR");
  printf("SANDBOX_TEST_VAR=[%s]\n", v ? v : "(unset)");
  fprintf(stderr, "hello on stderr\n");
  return 7;
}
