# infrahaus dev toolbox
export EDITOR=vi
alias ll="ls -la"
