// ptscope's public API: read a PyTorch checkpoint without loading or
// trusting it, count what it holds, and estimate what running it costs.
//
//   ptscope::Checkpoint c = ptscope::load_checkpoint("model.pt");
//   ptscope::Summary s = ptscope::summarize(c);
//   s.parameters->numel;   // as sum(p.numel() for p in model.parameters())
//   ptscope::Estimate e = ptscope::estimate(c, ptscope::EstimateOptions{});
//
// Every failure is a ptscope::Error (ptscope/error.h).
#pragma once

#include "ptscope/checkpoint.h"
#include "ptscope/error.h"
#include "ptscope/estimate.h"
#include "ptscope/experts.h"
#include "ptscope/load.h"
#include "ptscope/scan.h"
#include "ptscope/summary.h"
