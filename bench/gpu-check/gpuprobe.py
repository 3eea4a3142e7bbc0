#!/usr/bin/env python3
# Part of bench/gpu-check (see its README.md); copied to .gpu/ and .gpu-p1/ by bench/gpu-check/pack.sh.
"""What the Vulkan loader and EGL see, without Chromium: ctypes calls only.
Usage: gpuprobe.py [path/to/libvulkan.so.1]"""
import ctypes as C
import sys

VK_TYPES = {0: 'other', 1: 'integrated', 2: 'discrete', 3: 'virtual', 4: 'cpu'}


def vulkan(path):
    try:
        vk = C.CDLL(path)
    except OSError as e:
        print('vulkan: cannot load %s: %s' % (path, e))
        return

    class AppInfo(C.Structure):
        _fields_ = [('sType', C.c_int), ('pNext', C.c_void_p), ('pApplicationName', C.c_char_p),
                    ('applicationVersion', C.c_uint32), ('pEngineName', C.c_char_p),
                    ('engineVersion', C.c_uint32), ('apiVersion', C.c_uint32)]

    class InstInfo(C.Structure):
        _fields_ = [('sType', C.c_int), ('pNext', C.c_void_p), ('flags', C.c_uint32),
                    ('pApplicationInfo', C.POINTER(AppInfo)), ('enabledLayerCount', C.c_uint32),
                    ('ppEnabledLayerNames', C.c_void_p), ('enabledExtensionCount', C.c_uint32),
                    ('ppEnabledExtensionNames', C.c_void_p)]

    app = AppInfo(0, None, b'probe', 1, b'probe', 1, (1 << 22) | (1 << 12))
    info = InstInfo(1, None, 0, C.pointer(app), 0, None, 0, None)
    inst = C.c_void_p()
    r = vk.vkCreateInstance(C.byref(info), None, C.byref(inst))
    if r != 0:
        print('vulkan: vkCreateInstance failed: VkResult %d' % r)
        return
    n = C.c_uint32(0)
    r = vk.vkEnumeratePhysicalDevices(inst, C.byref(n), None)
    devs = (C.c_void_p * max(1, n.value))()
    vk.vkEnumeratePhysicalDevices(inst, C.byref(n), devs)
    print('vulkan: %d physical device(s) (enumerate result %d)' % (n.value, r))
    props = C.create_string_buffer(4096)
    for i in range(n.value):
        vk.vkGetPhysicalDeviceProperties(C.c_void_p(devs[i]), props)
        raw = props.raw
        api, drv, vendor, device, dtype = [int.from_bytes(raw[j:j + 4], 'little') for j in range(0, 20, 4)]
        name = raw[20:276].split(b'\0')[0].decode('utf8', 'replace')
        print('  [%d] %s vendor=0x%04x device=0x%04x type=%s api=%d.%d.%d' % (
            i, name, vendor, device, VK_TYPES.get(dtype, dtype), api >> 22, (api >> 12) & 0x3ff, api & 0xfff))
    vk.vkDestroyInstance(inst, None)


def egl():
    try:
        e = C.CDLL('libEGL.so.1')
    except OSError as err:
        print('egl: cannot load libEGL.so.1: %s' % err)
        return
    e.eglGetDisplay.restype = C.c_void_p
    e.eglGetDisplay.argtypes = [C.c_void_p]
    e.eglQueryString.restype = C.c_char_p
    e.eglQueryString.argtypes = [C.c_void_p, C.c_int]
    e.eglInitialize.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p]
    # Prefer a device platform display (no window system), else the default display.
    dpy = None
    try:
        e.eglGetProcAddress.restype = C.c_void_p
        e.eglGetProcAddress.argtypes = [C.c_char_p]
        qd = e.eglGetProcAddress(b'eglQueryDevicesEXT')
        gpd = e.eglGetProcAddress(b'eglGetPlatformDisplayEXT')
        if qd and gpd:
            QD = C.CFUNCTYPE(C.c_uint, C.c_int, C.POINTER(C.c_void_p), C.POINTER(C.c_int))(qd)
            GPD = C.CFUNCTYPE(C.c_void_p, C.c_int, C.c_void_p, C.c_void_p)(gpd)
            devs = (C.c_void_p * 8)()
            cnt = C.c_int(0)
            QD(8, devs, C.byref(cnt))
            print('egl: %d device(s) via EGL_EXT_device_enumeration' % cnt.value)
            if cnt.value:
                dpy = GPD(0x313F, devs[0], None)  # EGL_PLATFORM_DEVICE_EXT
    except Exception as err:
        print('egl: device enumeration failed: %s' % err)
    if not dpy:
        dpy = e.eglGetDisplay(None)
    major, minor = C.c_int(), C.c_int()
    if not dpy or not e.eglInitialize(dpy, C.byref(major), C.byref(minor)):
        print('egl: eglInitialize failed (display %s)' % dpy)
        return
    print('egl: %d.%d vendor=%s version=%s' % (major.value, minor.value,
          e.eglQueryString(dpy, 0x3053), e.eglQueryString(dpy, 0x3054)))
    print('egl: client APIs=%s' % e.eglQueryString(dpy, 0x308D))


if __name__ == '__main__':
    for f in (lambda: vulkan(sys.argv[1] if len(sys.argv) > 1 else 'libvulkan.so.1'), egl):
        try:
            f()
        except Exception as err:
            print('probe error: %r' % err)
        sys.stdout.flush()
