# bash completion for ptscope: subcommands, their flags, the choices of the
# flags that take one, files otherwise. The lists mirror src/cli/*_command.cc.
_ptscope() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else  # without the bash-completion package
    cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
  fi

  local sub="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      inspect|estimate|profile|diff|scan|backend) sub=${words[i]}; break ;;
    esac
  done

  local choices=""
  case $prev in
    -f|--format) choices="table json csv tsv" ;;
    --dtype) [[ $sub == profile ]] && choices="fp32 fp16 bf16" || choices="fp32 fp16 bf16 int8 int4" ;;
    --optimizer) [[ $sub == profile ]] && choices="sgd adam adamw" \
                   || choices="sgd momentum adam adamw adafactor adam8bit" ;;
    --strategy) choices="ddp zero1 zero2 zero3 fsdp" ;;
    --device) choices="cpu cuda cuda:0" ;;
    --units) choices="decimal binary both" ;;
    --fail-on) choices="needs-code dangerous" ;;
    # Numbers, shapes and sizes: nothing to offer.
    --depth|--group-size|-b|--batch|--seq|--heads|--experts-per-token|--image|--gpus|-i|--input|--warmup|--iters|--memory-limit|--timeout)
      return ;;
  esac
  if [[ -n $choices ]]; then
    COMPREPLY=($(compgen -W "$choices" -- "$cur"))
    return
  fi

  local flags
  case $sub in
    "") [[ $cur == -* ]] && flags="-v --verbose -h --help --version" || flags="inspect estimate profile diff scan backend"
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return ;;
    inspect) flags="--tensors --tree --depth --bytes --verify --html -f --format" ;;
    diff) flags="--structure --html -f --format" ;;
    estimate) flags="--dtype --group-size --optimizer --mixed-precision -b --batch --seq --heads --experts-per-token
                     --image --gpus --strategy --activation-checkpointing --units --html -f --format" ;;
    profile) flags="-i --input -b --batch --warmup --iters --dtype --train --optimizer --device
                    --counter-overhead --max-batch --memory-limit --timeout --depth --save-io -f --format" ;;
    scan) flags="--crc --fail-on -f --format" ;;
    backend) flags="" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags -h --help" -- "$cur"))
  elif [[ $sub != backend ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  fi
}
complete -F _ptscope ptscope
