/* idle_stdin: reads stdin until end of file, blocking in read(2), and prints how many reads and
   bytes it took. An idle guest when its stdin is a silent pipe. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  char buf[4096];
  long reads = 0, bytes = 0;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) {
      perror("read");
      return 1;
    }
    reads++;
    if (n == 0) break;
    bytes += n;
  }
  printf("reads=%ld bytes=%ld\n", reads, bytes);
  return 0;
}
