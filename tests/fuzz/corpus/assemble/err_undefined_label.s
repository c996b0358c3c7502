goto nowhere
exit
