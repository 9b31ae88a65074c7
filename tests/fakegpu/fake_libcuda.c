/* A stand-in for NVIDIA's libcuda.so.1, so the probe's real detection code runs
 * on machines without a GPU. Its answers come from environment variables:
 *
 *   FAKE_CUDA_DRIVER_VERSION  cuDriverGetVersion's answer, e.g. 12020 (default 12020)
 *   FAKE_CUDA_DEVICES         "NVIDIA A100-SXM4-80GB:8.0;NVIDIA T4:7.5" (default: none)
 *   FAKE_CUDA_MODE            "ok" (default), "fail" (cuInit returns 100,
 *                             CUDA_ERROR_NO_DEVICE), "hang" (cuInit never returns),
 *                             "crash" (cuInit aborts the process)
 *
 * Like the real driver, cuInit answers CUDA_ERROR_NO_DEVICE (100) when the driver is
 * there but no device is visible (FAKE_CUDA_DEVICES empty: a container started
 * without the GPU).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 16

static int parse_devices(char names[MAX_DEVICES][128], int major[MAX_DEVICES],
                         int minor[MAX_DEVICES]) {
    const char *spec = getenv("FAKE_CUDA_DEVICES");
    int count = 0;
    if (spec == NULL || *spec == '\0') return 0;
    char buf[4096];
    strncpy(buf, spec, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    char *save = NULL;
    for (char *item = strtok_r(buf, ";", &save); item && count < MAX_DEVICES;
         item = strtok_r(NULL, ";", &save)) {
        char *colon = strrchr(item, ':');
        major[count] = 0;
        minor[count] = 0;
        if (colon) {
            *colon = '\0';
            sscanf(colon + 1, "%d.%d", &major[count], &minor[count]);
        }
        strncpy(names[count], item, 127);
        names[count][127] = '\0';
        count++;
    }
    return count;
}

static int initialized = 0;

int cuDriverGetVersion(int *version) {
    const char *v = getenv("FAKE_CUDA_DRIVER_VERSION");
    *version = v ? atoi(v) : 12020;
    return 0;
}

int cuInit(unsigned int flags) {
    (void)flags;
    const char *mode = getenv("FAKE_CUDA_MODE");
    if (mode && strcmp(mode, "hang") == 0) {
        for (;;) pause();
    }
    if (mode && strcmp(mode, "crash") == 0) abort();
    if (mode && strcmp(mode, "fail") == 0) return 100;
    {
        char names[MAX_DEVICES][128];
        int major[MAX_DEVICES], minor[MAX_DEVICES];
        if (parse_devices(names, major, minor) == 0) return 100; /* CUDA_ERROR_NO_DEVICE */
    }
    initialized = 1;
    return 0;
}

int cuDeviceGetCount(int *count) {
    char names[MAX_DEVICES][128];
    int major[MAX_DEVICES], minor[MAX_DEVICES];
    if (!initialized) return 3; /* CUDA_ERROR_NOT_INITIALIZED */
    *count = parse_devices(names, major, minor);
    return 0;
}

int cuDeviceGet(int *device, int ordinal) {
    *device = ordinal;
    return 0;
}

int cuDeviceGetName(char *name, int len, int device) {
    char names[MAX_DEVICES][128];
    int major[MAX_DEVICES], minor[MAX_DEVICES];
    int n = parse_devices(names, major, minor);
    if (device < 0 || device >= n) return 101; /* CUDA_ERROR_INVALID_DEVICE */
    strncpy(name, names[device], (size_t)len - 1);
    name[len - 1] = '\0';
    return 0;
}

int cuDeviceGetAttribute(int *value, int attribute, int device) {
    char names[MAX_DEVICES][128];
    int major[MAX_DEVICES], minor[MAX_DEVICES];
    int n = parse_devices(names, major, minor);
    if (device < 0 || device >= n) return 101;
    if (attribute == 75) *value = major[device];
    else if (attribute == 76) *value = minor[device];
    else *value = 0;
    return 0;
}
