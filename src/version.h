#ifndef DV_VERSION_H
#define DV_VERSION_H
#define DV_VERSION "0.1.0"
#endif
