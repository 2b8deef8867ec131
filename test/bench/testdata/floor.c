/*
 * floor: the least a heartbeat node can do, as a yardstick for the idle
 * footprint benchmark. Every keepalive it sends one 360-byte UDP datagram
 * (the size of a signed status message) to the peer, and it reads
 * whatever the peer sends; no parsing, no signing, no state. What this
 * costs on a machine is the floor under any implementation's CPU there.
 *
 * With "timer-only" it reads the peer's datagrams only when its own timer
 * fires, so it wakes once per keepalive instead of twice: the floor of a
 * design that lets every incoming message wait up to a keepalive.
 *
 * usage: floor PEER-IPv4 PORT KEEPALIVE-MS [timer-only]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "timer-only") == 0)) {
		fprintf(stderr, "usage: floor PEER-IPv4 PORT KEEPALIVE-MS [timer-only]\n");
		return 2;
	}
	int timer_only = argc == 5;
	int port = atoi(argv[2]);
	long ms = atol(argv[3]);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1 || port <= 0 || ms <= 0) {
		fprintf(stderr, "floor: bad arguments\n");
		return 2;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("floor: socket");
		return 1;
	}
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec every = {
		.it_interval = {ms / 1000, (ms % 1000) * 1000000L},
		.it_value = {ms / 1000, (ms % 1000) * 1000000L},
	};
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	if (t < 0 || timerfd_settime(t, 0, &every, NULL) < 0 || ep < 0 ||
	    (!timer_only && epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0)) {
		perror("floor: setup");
		return 1;
	}
	ev.data.fd = t;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev) < 0) {
		perror("floor: setup");
		return 1;
	}
	char out[360], in[2048];
	memset(out, 'h', sizeof out);
	for (;;) {
		struct epoll_event ready[4];
		int n = epoll_wait(ep, ready, 4, -1);
		for (int i = 0; i < n; i++) {
			if (ready[i].data.fd == t) {
				if (timer_only)
					while (recv(s, in, sizeof in, 0) >= 0)
						;
				uint64_t expirations;
				if (read(t, &expirations, sizeof expirations) > 0)
					sendto(s, out, sizeof out, 0, (struct sockaddr *)&peer, sizeof peer);
			} else {
				while (recv(s, in, sizeof in, 0) >= 0)
					;
			}
		}
	}
}
