// Prints how many parameters a checkpoint holds, as
// sum(p.numel() for p in model.parameters()) would, without loading it.
#include <iostream>

#include <ptscope/ptscope.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: count_parameters CHECKPOINT\n";
    return 2;
  }
  try {
    ptscope::Checkpoint c = ptscope::load_checkpoint(argv[1]);
    ptscope::Summary s = ptscope::summarize(c);
    if (s.parameters)
      std::cout << s.parameters->numel << '\n';
    else  // the file does not say which tensors are parameters (roles_known)
      std::cout << s.unique_numel << " (elements: parameters not told apart from buffers)\n";
  } catch (const ptscope::Error& e) {
    std::cerr << e.describe() << '\n';
    return 1;
  }
}
