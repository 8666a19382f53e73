/* vfio-check — open a device the way a VMM does, one VFIO step at a time.
 *
 *   vfio-check [--hold SECONDS] [--release-on-request] GROUP PCI-ADDRESS
 *
 * Steps: open /dev/vfio/vfio, VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION
 * (TYPE1), open /dev/vfio/GROUP, VFIO_GROUP_GET_STATUS (viable),
 * VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(TYPE1), VFIO_GROUP_GET_DEVICE_FD,
 * VFIO_DEVICE_GET_INFO.  One line per step on stdout ("ok <step>: ..." or
 * "FAIL <step>: ..."); exit 1 at the first failure, 2 on bad usage.
 *
 * --hold SECONDS keeps the device fd open that long afterwards (prints
 * "holding ..." first, so a test can wait for that line), to test what
 * happens when the device is unbound while a user holds it.  With
 * --release-on-request it also registers an eventfd on the device's request
 * IRQ (VFIO_PCI_REQ_IRQ_INDEX) and closes everything as soon as the kernel
 * asks for the device back, as QEMU does; without it vfio-pci's unbind
 * blocks until the hold ends.
 *
 * Plain C, no dependencies beyond the kernel's UAPI headers:
 *   gcc -O2 -Wall -Wextra -o vfio-check vfio-check.c
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(const char *step, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static void ok(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ok(const char *step, const char *fmt, ...)
{
	va_list ap;

	printf("ok %s: ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: vfio-check [--hold SECONDS] [--release-on-request] GROUP PCI-ADDRESS\n");
	exit(2);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* DDDD[D...]:BB:SS.F, hex; the kernel names devices this way. */
static int valid_pci_address(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	if (n < 4 || s[n] != ':')
		return 0;
	s += n + 1;
	if (strspn(s, "0123456789abcdef") != 2 || s[2] != ':')
		return 0;
	s += 3;
	if (strspn(s, "0123456789abcdef") != 2 || s[2] != '.')
		return 0;
	s += 3;
	return s[0] >= '0' && s[0] <= '7' && s[1] == '\0';
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long hold = -1;
	int release_on_request = 0;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--hold") && i + 1 < argc && all_digits(argv[i + 1]))
			hold = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--release-on-request"))
			release_on_request = 1;
		else
			usage();
	}
	if (argc - i != 2 || !all_digits(argv[i]) || !valid_pci_address(argv[i + 1]))
		usage();
	const char *group_no = argv[i], *addr = argv[i + 1];
	char path[64];
	int container, group, device, r;

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		fail("open-container", "/dev/vfio/vfio: %s", strerror(errno));
	ok("open-container", "/dev/vfio/vfio");

	r = ioctl(container, VFIO_GET_API_VERSION);
	if (r != VFIO_API_VERSION)
		fail("api-version", "got %d, want %d", r, VFIO_API_VERSION);
	ok("api-version", "%d", r);

	r = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
	if (r <= 0)
		fail("check-extension", "VFIO_TYPE1_IOMMU not supported (%d)", r);
	ok("check-extension", "VFIO_TYPE1_IOMMU supported; TYPE1v2 %s",
	   ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? "too" : "not");

	snprintf(path, sizeof path, "/dev/vfio/%s", group_no);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		fail("open-group", "%s: %s", path, strerror(errno));
	ok("open-group", "%s", path);

	struct vfio_group_status status = { .argsz = sizeof status };
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
		fail("group-status", "%s", strerror(errno));
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		fail("group-status", "group %s is not viable (a member is bound to a host driver)", group_no);
	ok("group-status", "viable");

	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		fail("set-container", "%s", strerror(errno));
	ok("set-container", "group %s in container", group_no);

	/* EPERM here usually means no interrupt remapping (allow_unsafe_interrupts). */
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		fail("set-iommu", "VFIO_TYPE1_IOMMU: %s", strerror(errno));
	ok("set-iommu", "VFIO_TYPE1_IOMMU");

	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, addr);
	if (device < 0)
		fail("get-device-fd", "%s: %s", addr, strerror(errno));
	ok("get-device-fd", "%s", addr);

	struct vfio_device_info info = { .argsz = sizeof info };
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info) < 0)
		fail("device-info", "%s", strerror(errno));
	ok("device-info", "flags=%#x%s regions=%u irqs=%u", info.flags,
	   info.flags & VFIO_DEVICE_FLAGS_PCI ? " (pci)" : "", info.num_regions, info.num_irqs);

	if (hold < 0)
		return 0;

	int efd = -1;
	if (release_on_request) {
		char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
		struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

		efd = eventfd(0, EFD_CLOEXEC);
		if (efd < 0)
			fail("request-irq", "eventfd: %s", strerror(errno));
		set->argsz = sizeof buf;
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->index = VFIO_PCI_REQ_IRQ_INDEX;
		set->start = 0;
		set->count = 1;
		memcpy(set->data, &efd, sizeof efd);
		if (ioctl(device, VFIO_DEVICE_SET_IRQS, set) < 0)
			fail("request-irq", "%s", strerror(errno));
		ok("request-irq", "eventfd registered");
	}

	printf("holding %s for %ld s%s\n", addr, hold,
	       release_on_request ? " (releasing on request)" : "");
	fflush(stdout);
	double start = now(), left;
	while ((left = hold - (now() - start)) > 0) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		/* poll ignores a negative fd: then this is just a sleep. */
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			fail("hold", "poll: %s", strerror(errno));
		if (r > 0) {
			ok("request", "kernel asked for %s back after %.1f s; releasing",
			   addr, now() - start);
			break;
		}
	}
	close(device);
	close(group);
	close(container);
	ok("release", "%s closed", addr);
	return 0;
}
