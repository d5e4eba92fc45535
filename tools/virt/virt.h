/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/virt.h - `pvio virt`: what libvirt's domain XML says about the
 * paravirtual devices pvio can drive, conversions between the three
 * hypervisor families' device definitions, and a probe guest booted through
 * libvirt.  Internal to the pvio command; names use the virt_ prefix.
 *
 * Domain XML is only ever read and written through libxml2 trees
 * (virt_xml_*), never as text.
 */
#ifndef PVIO_TOOLS_VIRT_H
#define PVIO_TOOLS_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libxml/tree.h>

#include <pvio/pvio.h>

#define VIRT_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum virt_exit {
	VIRT_OK = 0,
	VIRT_FAIL = 1,
	VIRT_USAGE = 2,
};

/* ---------------------------------------------------------------- util.c */

/* "pvio virt SUB: msg" on stderr; return VIRT_FAIL / VIRT_USAGE. */
int virt_fail(const char *sub, const char *fmt, ...) VIRT_PRINTF(2, 3);
int virt_usage(const char *sub, const char *fmt, ...) VIRT_PRINTF(2, 3);
void virt_warn(const char *sub, const char *fmt, ...) VIRT_PRINTF(2, 3);

/* A growing string. */
struct virt_buf {
	char *s;
	size_t len, cap;
};
void virt_buf_add(struct virt_buf *b, const char *s);
void virt_buf_printf(struct virt_buf *b, const char *fmt, ...) VIRT_PRINTF(2, 3);
void virt_buf_free(struct virt_buf *b);

char *virt_strdup(const char *s); /* NULL stays NULL; aborts on ENOMEM */
void *virt_calloc(size_t n, size_t size); /* aborts on ENOMEM */

/* s with every byte that is not printable ASCII replaced by '?': strings
 * from domain XML or a guest must not drive the terminal. */
const char *virt_printable(const char *s, char *buf, size_t size);

/* JSON string literal (with quotes) of s; bytes that are not valid UTF-8
 * become U+FFFD. */
void virt_json_str(FILE *f, const char *s);

/* Seconds in (0, max], decimal fraction allowed. */
int virt_parse_seconds(const char *s, double max, double *out);
uint64_t virt_now_ns(void);

/* A text table: cells are copied; print pads columns to their widest cell
 * (each cell made printable first). */
struct virt_table {
	size_t cols, rows, cap;
	char **cells; /* rows * cols */
};
void virt_table_init(struct virt_table *t, size_t cols);
void virt_table_row(struct virt_table *t, const char *const *cells);
void virt_table_print(const struct virt_table *t, FILE *f, const char *indent);
void virt_table_free(struct virt_table *t);

/* ---------------------------------------------------------------- xml.c */

/* Largest domain document pvio accepts (libvirt's own are a few KiB). */
#define VIRT_XML_MAX_BYTES (4u << 20)

/*
 * Parse one XML document with network access off, no entity substitution,
 * no DTD loading, and any DOCTYPE or entity declaration refused (libvirt's
 * XML never has one; refusing them closes entity expansion attacks).  len
 * over VIRT_XML_MAX_BYTES is refused.  On failure returns NULL and a
 * one-line reason in err.  what names the input in messages.
 */
xmlDocPtr virt_xml_parse(const char *buf, size_t len, const char *what,
			 char *err, size_t errsize);
/* Silence libxml2's default error printer (errors are reported as one
 * line by the caller). */
void virt_quiet_xml_errors(void);
/* Read path ("-" = stdin) with the size guard, then virt_xml_parse.
 * *decl (optional) tells whether the file starts with an XML declaration,
 * so a rewrite can keep or leave it out as the original did. */
xmlDocPtr virt_xml_read_file(const char *path, bool *decl, char *err,
			     size_t errsize);

/* Element helpers (children in document order, element nodes only). */
xmlNodePtr virt_xml_child(xmlNodePtr n, const char *name);
xmlNodePtr virt_xml_next(xmlNodePtr n, const char *name); /* next sibling */
/* Attribute value or NULL; the string belongs to the caller (xmlFree). */
char *virt_xml_attr(xmlNodePtr n, const char *name);
/* Attribute of the first child element called child, or NULL. */
char *virt_xml_child_attr(xmlNodePtr n, const char *child, const char *attr);
/* Remove n and the whitespace-only text before it (its indentation). */
void virt_xml_remove(xmlNodePtr n);
/* New element name as the last element child of parent, indented like
 * its element siblings. */
xmlNodePtr virt_xml_append(xmlNodePtr parent, const char *name);
/* New element name inserted right after sibling, same indentation. */
xmlNodePtr virt_xml_insert_after(xmlNodePtr sibling, const char *name);
/* Serialize doc (no XML declaration unless decl) into a malloc'd string. */
char *virt_xml_dump(xmlDocPtr doc, bool decl, size_t *len);

/* ---------------------------------------------------------------- vbd.c */

/*
 * Xen's VBD number for a disk name, per Xen's docs/misc/vbd-interface.txt:
 * xvd<letters>[N] (202<<8 | disk<<4 | part, or 1<<28 | disk<<8 | part from
 * disk 16 or partition 16 on), sd<letters>[N] (8<<8 | disk<<4 | part, disks
 * and partitions up to 15), hd<letters>[N] (3<<8 or 22<<8, disks 0..3,
 * partitions up to 63), d<N>[p<N>].  Returns 0 and *num, or -EINVAL (not a
 * Xen disk name) / -ERANGE (the format has no number for it).
 */
int virt_vbd_number(const char *name, uint32_t *num);
/* Split a disk name into its prefix ("vd", "xvd", "sd", "hd"), its disk
 * index (a = 0, z = 25, aa = 26, ...) and a trailing partition number (-1
 * if none).  -EINVAL if name has none of those prefixes. */
int virt_disk_name_split(const char *name, const char **prefix, uint32_t *disk,
			 int *part);
/* prefix + letters for index (+ partition if part >= 0) into buf. */
int virt_disk_name(const char *prefix, uint32_t disk, int part, char *buf,
		   size_t size);

/* ---------------------------------------------------------------- model.c */

enum virt_hv {
	VIRT_HV_UNKNOWN = 0,
	VIRT_HV_KVM,    /* KVM/QEMU: virtio */
	VIRT_HV_XEN,    /* Xen: netfront/blkfront */
	VIRT_HV_HYPERV, /* Hyper-V: VMBus NetVSC/StorVSC */
};
const char *virt_hv_name(enum virt_hv h);       /* "kvm", "xen", "hyperv" */
enum pvio_family virt_hv_family(enum virt_hv h);
/* "kvm" / "qemu" / "xen" / "hyperv" (case-insensitive; "hyper-v" too). */
int virt_hv_parse(const char *s, enum virt_hv *out);

struct virt_dev {
	xmlNodePtr node;      /* the <disk> or <interface> element */
	enum pvio_class cls;  /* PVIO_CLASS_BLK / PVIO_CLASS_NET */
	bool paravirt;        /* the source family's paravirtual definition
				 (convert rewrites these) */
	bool drivable;        /* pvio reaches it from inside the guest */
	char kind[64];        /* "virtio-blk", "Xen vbd", "StorVSC (synthetic
				 SCSI)", "e1000 (emulated)", ... */
	char model[32];       /* interface model or disk bus as written */
	char mac[32];
	char source[256];     /* disk source; interface connection */
	char target[32];      /* disk target dev; "" for interfaces */
	char device[16];      /* disk device attribute (disk, cdrom, ...) */
	char address[128];    /* pvio address or why there is none */
	char note[160];
};

struct virt_domain {
	char name[128];
	char type[32];        /* <domain type> as written */
	enum virt_hv hv;      /* from the type, or inferred from devices */
	bool inferred;        /* hv came from the devices, not the type */
	bool xen_pv;          /* Xen PV guest (<os><type>xen|linux|xenpvh) */
	char machine[64];
	size_t ndev;
	struct virt_dev *dev;
};

/* Read the devices of a parsed domain document.  hint (may be
 * VIRT_HV_UNKNOWN) overrides the family the type says.  -EINVAL with a
 * reason in err if the document is not a libvirt <domain>. */
int virt_domain_read(xmlDocPtr doc, enum virt_hv hint, struct virt_domain *d,
		     char *err, size_t errsize);
void virt_domain_free(struct virt_domain *d);

/* Print one domain's device list as a table / as a JSON object. */
void virt_domain_print(const struct virt_domain *d, FILE *f);
void virt_domain_json(const struct virt_domain *d, FILE *f);

/* ---------------------------------------------------------------- conn.c */

struct _virConnect;
/* Open uri (read-only when ro) within timeout_s; on failure print one line
 * for sub and return NULL.  Installs a silent libvirt error handler first
 * (libvirt prints to stderr otherwise). */
struct _virConnect *virt_connect(const char *sub, const char *uri, bool ro,
				 double timeout_s);
/* libvirt's last error message on this thread, one line. */
const char *virt_lverr(void);
/* Silence libvirt's and libxml2's default error printers. */
void virt_quiet_errors(void);

/* ---------------------------------------------------------------- commands */

int virt_cmd_devices(int argc, char **argv);
int virt_cmd_convert(int argc, char **argv);
int virt_cmd_probe(int argc, char **argv);

/* ---------------------------------------------------------------- convert.c */

struct virt_convert_opts {
	enum virt_hv to;
	enum virt_hv from;    /* VIRT_HV_UNKNOWN: from the domain */
	bool set_type;        /* also change <domain type> */
	/* one line per thing that could not be mapped or was dropped */
	void (*note)(void *opaque, const char *msg);
	void *opaque;
};
/* Rewrite doc in place; returns the number of notes, or -EINVAL with err. */
int virt_convert_doc(xmlDocPtr doc, const struct virt_convert_opts *o,
		     char *err, size_t errsize);

/* ---------------------------------------------------------------- collect.c */

/* Lines a probe guest prints that start with this prefix are results. */
#define VIRT_GUEST_PREFIX "PVIO-GUEST "

struct virt_result {
	char *key;   /* first word after the prefix (#2, #3 for repeats) */
	char *value; /* the rest of the line */
};

/* Incremental reader of a guest's console file. */
struct virt_collect {
	const char *path;
	long offset;            /* bytes consumed */
	char partial[1024];     /* an unfinished line */
	size_t plen;
	bool overlong;          /* current line exceeded partial: dropped */
	size_t nres, capres;
	struct virt_result *res;
	size_t lines;           /* console lines seen */
	FILE *forward;          /* PVIO-GUEST lines are echoed here (or NULL) */
	const char *tag;        /* printed before forwarded lines */
};
void virt_collect_init(struct virt_collect *c, const char *path, FILE *forward,
		       const char *tag);
/* Read what was appended since the last call; at_end: treat an unfinished
 * last line as complete.  Returns the number of new results. */
size_t virt_collect_poll(struct virt_collect *c, bool at_end);
/* Feed bytes directly (used by poll and by the unit tests). */
size_t virt_collect_feed(struct virt_collect *c, const char *p, size_t n);
void virt_collect_free(struct virt_collect *c);
const char *virt_collect_get(const struct virt_collect *c, const char *key);

#endif
