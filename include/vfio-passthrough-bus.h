/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* The D-Bus contract between vfio-passthroughd and its callers. dbus/org.vfio.Passthrough1.xml
 * documents the same names; keep both in step. */

#define VFIO_PT_BUS_NAME "org.vfio.Passthrough1"
#define VFIO_PT_OBJECT_PATH "/org/vfio/Passthrough1"
#define VFIO_PT_INTERFACE "org.vfio.Passthrough1"
/* One object per PCI function and per IOMMU group below the manager (bus-path.h). */
#define VFIO_PT_DEVICES_PATH VFIO_PT_OBJECT_PATH "/devices"
#define VFIO_PT_GROUPS_PATH VFIO_PT_OBJECT_PATH "/groups"
#define VFIO_PT_DEVICE_INTERFACE VFIO_PT_INTERFACE ".Device"
#define VFIO_PT_GROUP_INTERFACE VFIO_PT_INTERFACE ".Group"
/* Owner and Grantee of a device nobody owns or was granted: uid_t's "no user". */
#define VFIO_PT_NO_UID UINT32_C(4294967295)

#define VFIO_PT_ERROR_PREFIX "org.vfio.Passthrough1.Error."
#define VFIO_PT_ERROR_INVALID_ADDRESS VFIO_PT_ERROR_PREFIX "InvalidAddress"
#define VFIO_PT_ERROR_NO_SUCH_DEVICE VFIO_PT_ERROR_PREFIX "NoSuchDevice"
#define VFIO_PT_ERROR_INVALID_ARGUMENT VFIO_PT_ERROR_PREFIX "InvalidArgument"
#define VFIO_PT_ERROR_NOT_BOUND VFIO_PT_ERROR_PREFIX "NotBound"
#define VFIO_PT_ERROR_DEVICE_BUSY VFIO_PT_ERROR_PREFIX "DeviceBusy"
#define VFIO_PT_ERROR_GROUP_NOT_VIABLE VFIO_PT_ERROR_PREFIX "GroupNotViable"
#define VFIO_PT_ERROR_MODULE_NOT_AVAILABLE VFIO_PT_ERROR_PREFIX "ModuleNotAvailable"
#define VFIO_PT_ERROR_TIMEOUT VFIO_PT_ERROR_PREFIX "Timeout"
#define VFIO_PT_ERROR_RESTORE_MISMATCH VFIO_PT_ERROR_PREFIX "RestoreMismatch"
#define VFIO_PT_ERROR_NOT_MANAGED VFIO_PT_ERROR_PREFIX "NotManaged"
#define VFIO_PT_ERROR_NO_SUCH_USER VFIO_PT_ERROR_PREFIX "NoSuchUser"
#define VFIO_PT_ERROR_OPERATION_FAILED VFIO_PT_ERROR_PREFIX "OperationFailed"
#define VFIO_PT_ERROR_CORRUPT_RECORD VFIO_PT_ERROR_PREFIX "CorruptRecord"
#define VFIO_PT_ERROR_INTERRUPTED VFIO_PT_ERROR_PREFIX "Interrupted"
/* Refusals use the standard org.freedesktop.DBus.Error.AccessDenied (and, once polkit decides,
 * org.freedesktop.DBus.Error.InteractiveAuthorizationRequired). */

/* Flags of Detach, Attach, Restore and Grant (the t argument). Unknown bits are refused. */
#define VFIO_PT_FLAG_FORCE (UINT64_C(1) << 0) /* act even when the device is in use by the host */
#define VFIO_PT_FLAG_GROUP (UINT64_C(1) << 1) /* act on every endpoint of the device's IOMMU group */
#define VFIO_PT_FLAGS_ALL (VFIO_PT_FLAG_FORCE | VFIO_PT_FLAG_GROUP)

/* Keys of the a{sv} dictionaries that describe a device. */
#define VFIO_PT_KEY_ADDRESS "Address"
#define VFIO_PT_KEY_VENDOR_ID "VendorId"
#define VFIO_PT_KEY_DEVICE_ID "DeviceId"
#define VFIO_PT_KEY_SUBSYSTEM_VENDOR_ID "SubsystemVendorId"
#define VFIO_PT_KEY_SUBSYSTEM_DEVICE_ID "SubsystemDeviceId"
#define VFIO_PT_KEY_VENDOR_NAME "VendorName"
#define VFIO_PT_KEY_DEVICE_NAME "DeviceName"
#define VFIO_PT_KEY_CLASS "Class"
#define VFIO_PT_KEY_CLASS_NAME "ClassName"
#define VFIO_PT_KEY_DRIVER "Driver"
#define VFIO_PT_KEY_DRIVER_OVERRIDE "DriverOverride"
#define VFIO_PT_KEY_IOMMU_GROUP "IommuGroup"
#define VFIO_PT_KEY_NUMA_NODE "NumaNode"
#define VFIO_PT_KEY_BUSY "Busy"
#define VFIO_PT_KEY_HOST_USE "HostUse"
#define VFIO_PT_KEY_OWNER "Owner"
#define VFIO_PT_KEY_GRANTEE "Grantee"
#define VFIO_PT_KEY_ORIGINAL_DRIVER "OriginalDriver"
#define VFIO_PT_KEY_RECORD_PROBLEM "RecordProblem"
#define VFIO_PT_KEY_INTERRUPTED "Interrupted"
#define VFIO_PT_KEY_RECOVERY "Recovery"
#define VFIO_PT_KEY_VFIO_READY "VfioReady"
#define VFIO_PT_KEY_VFIO_NOTE "VfioNote"
