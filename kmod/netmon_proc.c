// SPDX-License-Identifier: GPL-2.0-only
/*
 * netmon_proc: the kernel's own per-interface counters of the initial
 * network namespace in /proc/netmon, in the format the agent's --proc
 * source parses:
 *
 *   # netmon 1
 *   # iface ifindex rx_bytes rx_packets tx_bytes tx_packets rx_errors tx_errors rx_dropped tx_dropped
 *   eth0 2 123 4 567 8 0 0 0 0
 *
 * Each counter is the rtnl_link_stats64 field of the same name from
 * dev_get_stats(), as in /sys/class/net/<iface>/statistics/. Only
 * /proc/net/dev's "drop" column differs: it adds rx_missed_errors.
 *
 * iface=a,b,c shows only those names, matched at read time, so an interface
 * that appears, is renamed or is deleted after the load is followed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/proc_fs.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>

#include <netmon/abi.h>

#define NETMON_MAX_IFACES 16
#define NETMON_IFACE_PARAM_MAX (NETMON_MAX_IFACES * IFNAMSIZ)

/*
 * iface= as given. It is checked in netmon_init(), not when it is set, so
 * that a bad value is reported by exactly one line saying why: a failing
 * kernel_param_ops.set adds a generic "invalid for parameter" line.
 */
static char iface_param[NETMON_IFACE_PARAM_MAX + 1];
static bool iface_given;
static bool iface_too_long;

static char ifaces[NETMON_MAX_IFACES][IFNAMSIZ];
static unsigned int nr_ifaces;

static struct proc_dir_entry *netmon_entry;

static int iface_param_set(const char *val, const struct kernel_param *kp)
{
	iface_given = true;
	iface_too_long = strscpy(iface_param, val ? val : "",
				 sizeof(iface_param)) < 0;
	return 0;
}

static int iface_param_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", iface_param);
}

static const struct kernel_param_ops iface_param_ops = {
	/* A bare "iface" reaches iface_param_set() and is refused as empty. */
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = iface_param_set,
	.get = iface_param_get,
};
module_param_cb(iface, &iface_param_ops, NULL, 0444);
MODULE_PARM_DESC(iface,
		 "interfaces to show, comma-separated (default: all of init_net)");

/* The rules of dev_valid_name(), each with its own message. */
static int __init check_iface_name(const char *name, size_t len)
{
	size_t i;

	if (!len) {
		pr_err("iface= holds an empty name\n");
		return -EINVAL;
	}
	if (len >= IFNAMSIZ) {
		pr_err("iface '%.*s' is longer than %d characters\n",
		       (int)len, name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.')) {
		pr_err("iface '%.*s' is not a valid interface name\n",
		       (int)len, name);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (isspace(name[i])) {
			pr_err("iface '%.*s' contains whitespace\n",
			       (int)len, name);
			return -EINVAL;
		}
		/* The kernel expands '%' in a new name, so no name holds one. */
		if (name[i] == '/' || name[i] == ':' || name[i] == '%') {
			pr_err("iface '%.*s' contains '%c', which no interface name may hold\n",
			       (int)len, name, name[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int __init parse_iface_param(void)
{
	const char *name = iface_param;
	unsigned int i;
	size_t len;
	int err;

	if (!iface_given)
		return 0;
	if (iface_too_long) {
		pr_err("iface= is longer than %d characters\n",
		       NETMON_IFACE_PARAM_MAX);
		return -EINVAL;
	}

	for (;;) {
		len = strchrnul(name, ',') - name;
		err = check_iface_name(name, len);
		if (err)
			return err;
		if (nr_ifaces == NETMON_MAX_IFACES) {
			pr_err("iface= names more than %d interfaces\n",
			       NETMON_MAX_IFACES);
			return -EINVAL;
		}
		for (i = 0; i < nr_ifaces; i++) {
			if (!strncmp(ifaces[i], name, len) && !ifaces[i][len]) {
				pr_err("iface '%.*s' is given twice\n",
				       (int)len, name);
				return -EINVAL;
			}
		}
		/* ifaces[] starts zeroed and len < IFNAMSIZ: stays terminated. */
		memcpy(ifaces[nr_ifaces++], name, len);
		if (!name[len])
			return 0;
		name += len + 1;
	}
}

static bool netmon_selected(const char *name)
{
	unsigned int i;

	if (!nr_ifaces)
		return true;
	for (i = 0; i < nr_ifaces; i++) {
		if (!strncmp(name, ifaces[i], IFNAMSIZ))
			return true;
	}
	return false;
}

/*
 * A position is a bucket of init_net's ifindex hash and a 1-based offset in
 * its chain, as in net/core/net-procfs.c before it moved to an xarray the
 * 6.1 kernel lacks: each read() of a page resumes by walking one short chain
 * instead of every interface before it.
 */
#define NETMON_OFFSET_BITS (32 - NETDEV_HASHBITS - 1)

static loff_t netmon_pos(unsigned int bucket, unsigned int offset)
{
	return (loff_t)bucket << NETMON_OFFSET_BITS | offset;
}

static struct net_device *netmon_dev_at(loff_t *pos)
{
	unsigned int bucket = *pos >> NETMON_OFFSET_BITS;
	unsigned int offset = *pos & ((1U << NETMON_OFFSET_BITS) - 1);
	struct net_device *dev;
	unsigned int count;

	for (; bucket < NETDEV_HASHENTRIES; bucket++, offset = 1) {
		count = 0;
		hlist_for_each_entry_rcu(dev, &init_net.dev_index_head[bucket],
					 index_hlist) {
			if (++count == offset) {
				*pos = netmon_pos(bucket, offset);
				return dev;
			}
		}
	}
	/* Past the end for good, even if interfaces are added meanwhile. */
	*pos = netmon_pos(NETDEV_HASHENTRIES, 0);
	return NULL;
}

static void *netmon_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	rcu_read_lock();
	if (!*pos)
		return SEQ_START_TOKEN;
	return netmon_dev_at(pos);
}

static void *netmon_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return netmon_dev_at(pos);
}

static void netmon_seq_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

static int netmon_seq_show(struct seq_file *seq, void *v)
{
	const struct rtnl_link_stats64 *stats;
	struct rtnl_link_stats64 storage;
	struct net_device *dev = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, NETMON_PROC_MAGIC " "
			 __stringify(NETMON_PROC_VERSION) "\n"
			 "# iface ifindex rx_bytes rx_packets tx_bytes tx_packets rx_errors tx_errors rx_dropped tx_dropped\n");
		return 0;
	}
	if (!netmon_selected(dev->name))
		return SEQ_SKIP;

	stats = dev_get_stats(dev, &storage);
	seq_printf(seq, "%s %d %llu %llu %llu %llu %llu %llu %llu %llu\n",
		   dev->name, dev->ifindex,
		   stats->rx_bytes, stats->rx_packets,
		   stats->tx_bytes, stats->tx_packets,
		   stats->rx_errors, stats->tx_errors,
		   stats->rx_dropped, stats->tx_dropped);
	return 0;
}

static const struct seq_operations netmon_seq_ops = {
	.start = netmon_seq_start,
	.next = netmon_seq_next,
	.stop = netmon_seq_stop,
	.show = netmon_seq_show,
};

static int __init netmon_init(void)
{
	int err;

	err = parse_iface_param();
	if (err)
		return err;

	/*
	 * A second load is refused by the module loader (-EEXIST) before
	 * this runs, so /proc/netmon cannot already exist here.
	 */
	netmon_entry = proc_create_seq("netmon", 0444, NULL, &netmon_seq_ops);
	if (!netmon_entry)
		return -ENOMEM;
	return 0;
}

static void __exit netmon_exit(void)
{
	/* Waits for readers inside the seq_operations and closes open files. */
	proc_remove(netmon_entry);
}

module_init(netmon_init);
module_exit(netmon_exit);

MODULE_DESCRIPTION("netmon: per-interface counters in /proc/netmon");
MODULE_LICENSE("GPL");
