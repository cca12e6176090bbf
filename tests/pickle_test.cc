#include <gtest/gtest.h>
#include "ptscope/pickle.h"
